import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { estimateInputTokens } from "../src/admission/turn-admission.ts";

const whole = (r: { instructions: string; input: readonly unknown[]; tools: readonly unknown[] }) => Math.ceil(Buffer.byteLength(JSON.stringify([r.instructions, r.input, r.tools])) / 3) + 256;

test("the input estimate is the size of the whole request's JSON, also when the history's items were measured before", () => {
  const item = fc.oneof(fc.jsonValue(), fc.record({ type: fc.constant("message"), role: fc.constantFrom("user", "assistant"), content: fc.array(fc.record({ type: fc.constant("input_text"), text: fc.string({ unit: "grapheme" }) })) }));
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), fc.array(item, { maxLength: 12 }), fc.array(fc.jsonValue(), { maxLength: 4 }), fc.array(item, { maxLength: 4 }), (instructions, history, tools, added) => {
      const first = { instructions, input: history, tools };
      assert.equal(estimateInputTokens(first), whole(first));
      // The next turn sends the same history objects and more: the remembered sizes still add up.
      const next = { instructions, input: [...history, ...added], tools };
      assert.equal(estimateInputTokens(next), whole(next));
    }),
  );
});
