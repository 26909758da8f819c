import { z } from "zod";
import type { MicroCredits } from "./money.ts";

/** Prices of one model, in micro-credits per million tokens. */
export interface ModelPrice {
  inputPerMillion: MicroCredits;
  cachedInputPerMillion: MicroCredits;
  outputPerMillion: MicroCredits;
}

/** Tokens of one model round, as the model reports them (cached input tokens are part of input tokens). */
export interface RoundUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

const micro = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const ModelPriceSchema = z.strictObject({ inputPerMillion: micro, cachedInputPerMillion: micro, outputPerMillion: micro });
/** `{ "<model>": ModelPrice, …, "*"?: ModelPrice }` — `*` prices every model not named. */
export const PriceTableSchema = z.record(z.string().min(1), ModelPriceSchema);

const tokens = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const RoundUsageSchema = z.object({ inputTokens: tokens, cachedInputTokens: tokens, outputTokens: tokens });

const MILLION = 1_000_000n;

/**
 * The price table: model → price. Costs are computed in bigint and rounded up to a whole micro-credit,
 * so a round is never priced below what its tokens cost.
 */
export class PriceTable {
  readonly #prices: ReadonlyMap<string, ModelPrice>;

  constructor(prices: Readonly<Record<string, ModelPrice>>) {
    this.#prices = new Map(Object.entries(PriceTableSchema.parse(prices)));
  }

  /** The price of `model`, falling back to `*`; throws when neither is priced. */
  priceOf(model: string): ModelPrice {
    const price = this.#prices.get(model) ?? this.#prices.get("*");
    if (price === undefined) throw new UnpricedModelError(model);
    return price;
  }

  has(model: string): boolean {
    return this.#prices.has(model) || this.#prices.has("*");
  }

  /** Cost of `usage` on `model`; cached input tokens are priced at the cached rate, the rest of the input at the input rate. */
  cost(model: string, usage: RoundUsage): MicroCredits {
    return costAt(this.priceOf(model), usage);
  }

  /**
   * The most a round can cost: its input (none of it assumed cached) and at most `maxOutputTokens` of
   * output. This is what admission reserves; the host caps the request's output tokens at the same
   * number, so a settled round never costs more than its reservation.
   */
  estimate(model: string, inputTokens: number, maxOutputTokens: number): MicroCredits {
    return this.cost(model, { inputTokens, cachedInputTokens: 0, outputTokens: maxOutputTokens });
  }
}

/** Cost of `usage` at `price`, rounded up to a whole micro-credit. */
export function costAt(price: ModelPrice, usage: RoundUsage): MicroCredits {
  const u = RoundUsageSchema.parse(usage);
  const cached = BigInt(Math.min(u.cachedInputTokens, u.inputTokens));
  const uncached = BigInt(u.inputTokens) - cached;
  const numerator =
    uncached * BigInt(price.inputPerMillion) + cached * BigInt(price.cachedInputPerMillion) + BigInt(u.outputTokens) * BigInt(price.outputPerMillion);
  const cost = (numerator + MILLION - 1n) / MILLION;
  if (cost > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("round cost exceeds the largest amount a ledger holds");
  return Number(cost);
}

export class UnpricedModelError extends Error {
  constructor(readonly model: string) {
    super(`no price for model ${model}`);
    this.name = "UnpricedModelError";
  }
}
