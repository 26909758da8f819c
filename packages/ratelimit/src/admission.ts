import type { RateLimitSnapshot } from "@threadmesh/protocol";
import type { BurstLimiter } from "./burst.ts";
import { DEFAULT_SLOT_TTL_MS } from "./concurrency.ts";
import { reservationKey, type CreditStore, type Reservation, type SettleRequest, type SettleResult } from "./credit-store.ts";
import type { Plan } from "./plan.ts";
import type { PriceTable, RoundUsage } from "./prices.ts";
import { reachedTypeOf, refusalMessage, type Refusal, type RefusalReason } from "./refusal.ts";
import { rateLimitSnapshot } from "./snapshot.ts";

/** What asks to be admitted: a client's `turn/start` or `turn/steer`, or a later model round of a running turn. */
export interface AdmitRequest {
  kind: "turnStart" | "turnSteer" | "round";
  tenantId: string;
  userId: string;
  /** The API key (or token subject) the request came with: the burst limit counts per key. */
  keyId: string;
  planId: string;
  /** The user is a member of the tenant, not its owner (picks Codex's `rateLimitReachedType`). */
  member?: boolean;
  turnId: string;
  /** Model round of the turn this admits: 0 for `turnStart`, then 1, 2, … */
  round: number;
  model: string;
  /** Input tokens the round will send (an estimate from the history's size) and the output tokens it may produce. */
  inputTokens: number;
  maxOutputTokens: number;
}

export type AdmitResult =
  | { admitted: true; reservation: Reservation | null; rateLimits: RateLimitSnapshot }
  | { admitted: false; refusal: Refusal };

export interface AdmissionOptions {
  store: CreditStore;
  prices: PriceTable;
  burst: BurstLimiter;
  /** Milliseconds since the epoch; injected by tests. */
  clock?: () => number;
  slotTtlMs?: number;
  /** An unsettled reservation is given back this long after it was made; default 15 min. */
  reservationTtlMs?: number;
  /** Plans are read from the store at most this often; default 5 s. */
  planCacheMs?: number;
}

export const DEFAULT_RESERVATION_TTL_MS = 15 * 60_000;
const DEFAULT_PLAN_CACHE_MS = 5_000;

/**
 * The admission decision of the credit waterfall, for the router (turn/start, turn/steer) and the session
 * host (each later model round): burst → concurrency → plan windows → grants → purchased credits. The
 * first stage that refuses answers with a {@link Refusal}; an admitted round carries its reservation,
 * which the host settles with the usage the model reports ({@link settle}) or gives back ({@link release}).
 *
 * `turn/start` reserves round 0 of the new turn; the host's own admission of round 0 then finds that
 * reservation (reserving is idempotent by turn id and round) and costs nothing more. `turn/steer` passes
 * the burst stage only: the steered input is paid by the round that sends it.
 */
export class Admission {
  readonly #store: CreditStore;
  readonly #prices: PriceTable;
  readonly #burst: BurstLimiter;
  readonly #clock: () => number;
  readonly #slotTtlMs: number;
  readonly #reservationTtlMs: number;
  readonly #planCacheMs: number;
  readonly #plans = new Map<string, { plan: Plan; readAtMs: number }>();

  constructor(opts: AdmissionOptions) {
    this.#store = opts.store;
    this.#prices = opts.prices;
    this.#burst = opts.burst;
    this.#clock = opts.clock ?? Date.now;
    this.#slotTtlMs = opts.slotTtlMs ?? DEFAULT_SLOT_TTL_MS;
    this.#reservationTtlMs = opts.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.#planCacheMs = opts.planCacheMs ?? DEFAULT_PLAN_CACHE_MS;
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const plan = await this.plan(req.planId);
    if (req.kind === "turnStart" && this.#burst.distributed) return this.#admitAlongsideBurst(req, plan);
    const member = req.member ?? false;
    if (req.kind !== "round") {
      const burst = await this.#burst.consume(req.tenantId, req.keyId, plan);
      if (burst !== null) {
        const reason: RefusalReason = burst.scope === "key" ? "burstKey" : "burstTenant";
        const nowMs = this.#clock();
        const state = await this.#store.state(req.tenantId, plan, nowMs);
        const rateLimits = rateLimitSnapshot(state, nowMs, reachedTypeOf(reason, member));
        return { admitted: false, refusal: { reason, retryAfterMs: burst.retryAfterMs, rateLimits, message: refusalMessage(reason, burst.retryAfterMs, { limit: burst.limit }) } };
      }
      if (req.kind === "turnSteer") {
        const nowMs = this.#clock();
        return { admitted: true, reservation: null, rateLimits: rateLimitSnapshot(await this.#store.state(req.tenantId, plan, nowMs), nowMs) };
      }
    }
    return this.#reserve(req, plan);
  }

  /**
   * `turn/start` with burst counts in Redis: the burst stage and stages 2–5 run side by side, one round
   * trip each at the same time instead of one after the other. The answer keeps the waterfall's order:
   * a burst refusal answers even when the reservation went through, and that reservation (with the
   * slot it took) is given back before the answer.
   */
  async #admitAlongsideBurst(req: AdmitRequest, plan: Plan): Promise<AdmitResult> {
    const [burst, reserved] = await Promise.all([this.#burst.consume(req.tenantId, req.keyId, plan), this.#reserve(req, plan)]);
    if (burst === null) return reserved;
    if (reserved.admitted) {
      await this.#store.release(req.tenantId, reservationKey(req.turnId, req.round));
      await this.#store.endTurn(req.tenantId, req.turnId);
    }
    const reason: RefusalReason = burst.scope === "key" ? "burstKey" : "burstTenant";
    const nowMs = this.#clock();
    const state = await this.#store.state(req.tenantId, plan, nowMs);
    const rateLimits = rateLimitSnapshot(state, nowMs, reachedTypeOf(reason, req.member ?? false));
    return { admitted: false, refusal: { reason, retryAfterMs: burst.retryAfterMs, rateLimits, message: refusalMessage(reason, burst.retryAfterMs, { limit: burst.limit }) } };
  }

  /** Stages 2–5 in the store, and the reservation when they admit. */
  async #reserve(req: AdmitRequest, plan: Plan): Promise<AdmitResult> {
    const member = req.member ?? false;
    const nowMs = this.#clock();
    const res = await this.#store.reserve({
      key: reservationKey(req.turnId, req.round),
      tenantId: req.tenantId,
      userId: req.userId,
      turnId: req.turnId,
      plan,
      amount: this.#prices.estimate(req.model, req.inputTokens, req.maxOutputTokens),
      newTurn: req.kind === "turnStart",
      member,
      nowMs,
      slotTtlMs: this.#slotTtlMs,
      reservationTtlMs: this.#reservationTtlMs,
    });
    if (res.decision.kind === "refuse") return { admitted: false, refusal: res.decision.refusal };
    return { admitted: true, reservation: res.reservation, rateLimits: rateLimitSnapshot(res.state, nowMs) };
  }

  /**
   * Charges a round's reported usage, once per turn and round: a repeat (a retry, or the adopting host
   * settling a round its dead predecessor already settled) changes nothing. Returns what was charged
   * and the snapshot for `account/rateLimits/updated`. With `ahead`, a store that can settle the round
   * from what it holds in memory (`CreditStore.settleAhead`) answers at once and writes in the background.
   */
  async settle(
    req: { tenantId: string; userId: string; planId: string; turnId: string; round: number; model: string; usage: RoundUsage },
    opts: { ahead?: boolean } = {},
  ): Promise<SettleResult & { rateLimits: RateLimitSnapshot }> {
    const plan = await this.plan(req.planId);
    const nowMs = this.#clock();
    const settle: SettleRequest = {
      key: reservationKey(req.turnId, req.round),
      tenantId: req.tenantId,
      userId: req.userId,
      turnId: req.turnId,
      round: req.round,
      plan,
      model: req.model,
      price: this.#prices.priceOf(req.model),
      usage: req.usage,
      nowMs,
    };
    const ahead = opts.ahead === true ? (this.#store.settleAhead?.(settle) ?? null) : null;
    const result = ahead ?? (await this.#store.settle(settle));
    return { ...result, rateLimits: rateLimitSnapshot(result.state, nowMs) };
  }

  /** Gives back the reservation of a round that never reached the model. */
  release(tenantId: string, turnId: string, round: number): Promise<void> {
    return this.#store.release(tenantId, reservationKey(turnId, round));
  }

  /** Keeps the turn's concurrency slot while it runs (see `concurrency.ts`). */
  renewSlot(tenantId: string, userId: string, turnId: string): Promise<void> {
    return this.#store.renewSlot(tenantId, userId, turnId, this.#clock(), this.#slotTtlMs);
  }

  /** Frees the turn's concurrency slot at its end. */
  endTurn(tenantId: string, turnId: string): Promise<void> {
    return this.#store.endTurn(tenantId, turnId);
  }

  /** The tenant's snapshot for `account/rateLimits/read`. */
  async rateLimits(tenantId: string, planId: string): Promise<RateLimitSnapshot> {
    const plan = await this.plan(planId);
    const nowMs = this.#clock();
    return rateLimitSnapshot(await this.#store.state(tenantId, plan, nowMs), nowMs);
  }

  /** The plan `id`, read through a short cache; throws {@link UnknownPlanError}. */
  async plan(id: string): Promise<Plan> {
    const nowMs = Date.now();
    const cached = this.#plans.get(id);
    if (cached !== undefined && nowMs - cached.readAtMs < this.#planCacheMs) return cached.plan;
    const plan = await this.#store.getPlan(id);
    if (plan === null) throw new UnknownPlanError(id);
    this.#plans.set(id, { plan, readAtMs: nowMs });
    return plan;
  }
}

export class UnknownPlanError extends Error {
  constructor(readonly planId: string) {
    super(`unknown plan ${planId}`);
    this.name = "UnknownPlanError";
  }
}
