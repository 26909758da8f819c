import { CONCURRENCY_RETRY_AFTER_MS, concurrencyExceeded, type ConcurrencyState } from "./concurrency.ts";
import type { MicroCredits } from "./money.ts";
import { bindingWindow, planWindow, windowRemaining } from "./plan-windows.ts";
import { reachedTypeOf, refusalMessage, type Refusal, type RefusalReason } from "./refusal.ts";
import { rateLimitSnapshot } from "./snapshot.ts";
import { allocate, covered, type Allocation, type FundingState } from "./waterfall.ts";

/** What stages 2–5 decide on, loaded by the store inside the transaction that records the outcome. */
export interface ReservationInput {
  /** The reservation: the round's estimated cost. */
  amount: MicroCredits;
  /** A new turn takes a concurrency slot; a later round of a running turn renews the one it holds. */
  newTurn: boolean;
  /** The user is a member of the tenant rather than its owner (picks `rateLimitReachedType`). */
  member: boolean;
  concurrency: ConcurrencyState;
  funding: FundingState;
  nowMs: number;
}

export type Decision = { kind: "admit"; allocation: Allocation } | { kind: "refuse"; refusal: Refusal };

/**
 * Stages 2 to 5 in order: concurrency (new turns only), then the waterfall of plan windows, grants and
 * purchased credits, which must cover the whole estimate. The first stage that refuses answers.
 */
export function decide(input: ReservationInput): Decision {
  const { funding, nowMs } = input;
  if (input.newTurn) {
    const over = concurrencyExceeded(funding.plan, input.concurrency);
    if (over !== null) {
      const reason: RefusalReason = over.scope === "tenant" ? "tenantConcurrency" : "userConcurrency";
      return refuse(input, reason, CONCURRENCY_RETRY_AFTER_MS, refusalMessage(reason, CONCURRENCY_RETRY_AFTER_MS, { limit: over.limit }));
    }
  }
  const allocation = allocate(input.amount, funding, nowMs);
  if (allocation.shortfall === 0) return { kind: "admit", allocation };
  const binding = bindingWindow(funding.plan, funding.windows, nowMs);
  const available = covered(allocation);
  if (binding === null) return refuse(input, "creditsDepleted", null, refusalMessage("creditsDepleted", null, { funding: { amount: input.amount, available } }));
  const reason: RefusalReason = binding.kind === "primary" ? "primaryWindow" : "secondaryWindow";
  const retryAfterMs = binding.resetsAtMs - nowMs;
  const w = planWindow(funding.plan, binding.kind);
  const detail = {
    resetsAtMs: binding.resetsAtMs,
    ...(w === null ? {} : { windowMins: w.windowMins }),
    funding: { amount: input.amount, available, ...(w === null ? {} : { windowBudget: w.budget, windowLeft: windowRemaining(w, funding.windows[binding.kind]) }) },
  };
  return refuse(input, reason, retryAfterMs, refusalMessage(reason, retryAfterMs, detail));
}

function refuse(input: ReservationInput, reason: RefusalReason, retryAfterMs: number | null, message: string): Decision {
  const rateLimits = rateLimitSnapshot(input.funding, input.nowMs, reachedTypeOf(reason, input.member));
  return { kind: "refuse", refusal: { reason, retryAfterMs, rateLimits, message } };
}
