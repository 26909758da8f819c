import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PriceTable, UnpricedModelError, costAt, formatCredits } from "../src/index.ts";

test("cost prices uncached input, cached input and output at their rates and rounds up to a micro-credit", () => {
  const price = { inputPerMillion: 1_250_000, cachedInputPerMillion: 125_000, outputPerMillion: 10_000_000 };
  // 900 uncached × 1.25 + 100 cached × 0.125 + 50 × 10 = 1125 + 12.5 + 500 → 1638 (rounded up)
  assert.equal(costAt(price, { inputTokens: 1_000, cachedInputTokens: 100, outputTokens: 50 }), 1_638);
  assert.equal(costAt(price, { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 }), 0);
  fc.assert(
    fc.property(fc.nat(10_000_000), fc.nat(10_000_000), fc.nat(1_000_000), (input, cached, output) => {
      const c = costAt(price, { inputTokens: input, cachedInputTokens: cached, outputTokens: output });
      assert.ok(Number.isSafeInteger(c));
      const exact = (BigInt(input - Math.min(cached, input)) * 1_250_000n + BigInt(Math.min(cached, input)) * 125_000n + BigInt(output) * 10_000_000n);
      assert.ok(BigInt(c) * 1_000_000n >= exact && (BigInt(c) - 1n) * 1_000_000n < exact);
    }),
  );
});

test("the estimate is an upper bound of any usage within its input and output tokens", () => {
  const table = new PriceTable({ m: { inputPerMillion: 3_000_000, cachedInputPerMillion: 300_000, outputPerMillion: 15_000_000 } });
  fc.assert(
    fc.property(fc.nat(100_000), fc.nat(10_000), fc.nat(100_000), fc.nat(10_000), (input, maxOut, cached, out) => {
      const used = table.cost("m", { inputTokens: input, cachedInputTokens: Math.min(cached, input), outputTokens: Math.min(out, maxOut) });
      assert.ok(used <= table.estimate("m", input, maxOut));
    }),
  );
});

test("an unpriced model is an error unless `*` prices every model", () => {
  assert.throws(() => new PriceTable({ a: { inputPerMillion: 1, cachedInputPerMillion: 1, outputPerMillion: 1 } }).priceOf("b"), UnpricedModelError);
  assert.equal(new PriceTable({ "*": { inputPerMillion: 1, cachedInputPerMillion: 1, outputPerMillion: 7 } }).priceOf("b").outputPerMillion, 7);
  assert.throws(() => new PriceTable({ a: { inputPerMillion: 0.5, cachedInputPerMillion: 1, outputPerMillion: 1 } }));
});

test("credits are shown as decimal strings", () => {
  assert.equal(formatCredits(12_500_000), "12.5");
  assert.equal(formatCredits(0), "0");
  assert.equal(formatCredits(-1), "-0.000001");
  assert.equal(formatCredits(3_000_000), "3");
});
