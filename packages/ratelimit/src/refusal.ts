import type { RateLimitSnapshot } from "@threadmesh/protocol";
import { formatCredits, type MicroCredits } from "./money.ts";
import type { RateLimitReachedType } from "./snapshot.ts";

/** Why admission refused, one per stage (and scope). */
export type RefusalReason =
  | "burstKey"
  | "burstTenant"
  | "tenantConcurrency"
  | "userConcurrency"
  | "primaryWindow"
  | "secondaryWindow"
  | "creditsDepleted";

/**
 * A refused admission: the stage that refused, how long until retrying can help (null when waiting
 * alone never helps: credits ran out and only a top-up or a grant brings them back), the tenant's
 * snapshot with `rateLimitReachedType` set, and a sentence for people.
 */
export interface Refusal {
  reason: RefusalReason;
  retryAfterMs: number | null;
  rateLimits: RateLimitSnapshot;
  message: string;
}

/** Codex's class of the refusal: a rate limit (retry soon) or a usage limit (windows, credits). */
export function codexErrorInfoOf(reason: RefusalReason): "rateLimitExceeded" | "usageLimitExceeded" {
  return reason === "burstKey" || reason === "burstTenant" || reason === "tenantConcurrency" || reason === "userConcurrency"
    ? "rateLimitExceeded"
    : "usageLimitExceeded";
}

/** The `rateLimitReachedType` of a refusal; `member` when the user is not the tenant's owner. */
export function reachedTypeOf(reason: RefusalReason, member: boolean): RateLimitReachedType {
  const who = member ? "member" : "owner";
  switch (reason) {
    case "primaryWindow":
    case "secondaryWindow":
      return `workspace_${who}_usage_limit_reached`;
    case "creditsDepleted":
      return `workspace_${who}_credits_depleted`;
    default:
      return "rate_limit_reached";
  }
}

/** "in 2 h 5 min", "in 40 s" — how long until `retryAfterMs` passes. */
export function describeWait(retryAfterMs: number): string {
  const s = Math.max(1, Math.ceil(retryAfterMs / 1000));
  if (s < 60) return `in ${s} s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h < 48) return rest === 0 ? `in ${h} h` : `in ${h} h ${rest} min`;
  return `in ${Math.round(h / 24)} days`;
}

/**
 * What a usage refusal knows about the money: the round's estimated cost, what all sources together
 * could still cover, and the binding window's budget and what is left of it. A refusal with something
 * left says that the round costs more than what is left rather than that the budget is used up.
 */
export interface RefusalFunding {
  amount: MicroCredits;
  available: MicroCredits;
  windowBudget?: MicroCredits;
  windowLeft?: MicroCredits;
}

/** The people's sentence of a refusal: what ran out (or why what is left is not enough) and when it comes back. */
export function refusalMessage(reason: RefusalReason, retryAfterMs: number | null, detail: { limit?: number; resetsAtMs?: number; windowMins?: number; funding?: RefusalFunding } = {}): string {
  const when = retryAfterMs === null ? "" : ` (${describeWait(retryAfterMs)})`;
  switch (reason) {
    case "burstKey":
      return `Rate limit reached: too many requests per second with this API key (limit ${detail.limit}); retry shortly${when}.`;
    case "burstTenant":
      return `Rate limit reached: too many requests per second for this tenant (limit ${detail.limit}); retry shortly${when}.`;
    case "tenantConcurrency":
      return `Rate limit reached: the tenant already runs ${turns(detail.limit)} at once, its limit; retry when one ends${when}.`;
    case "userConcurrency":
      return `Rate limit reached: you already run ${turns(detail.limit)} at once, your limit; retry when one ends${when}.`;
    case "primaryWindow":
    case "secondaryWindow": {
      const which = reason === "primaryWindow" ? "primary" : "secondary";
      const span = detail.windowMins === undefined ? "" : ` ${describeSpan(detail.windowMins)}`;
      const resets = detail.resetsAtMs === undefined ? "" : ` It resets at ${new Date(detail.resetsAtMs).toISOString()}${when}.`;
      const f = detail.funding;
      if (f === undefined || f.available === 0) return `Usage limit reached: the plan's ${which}${span} usage window is used up and no grants or credits are left.${resets}`;
      const window = f.windowLeft === undefined || f.windowBudget === undefined ? "" : ` (counting ${formatCredits(f.windowLeft)} left of the ${which}${span} window's ${formatCredits(f.windowBudget)}, and any grants and credits)`;
      const lead = `Usage limit reached: this model request may cost up to ${formatCredits(f.amount)} credits and only ${formatCredits(f.available)} are left${window}.`;
      if (f.windowBudget !== undefined && f.amount > f.windowBudget + (f.available - (f.windowLeft ?? 0))) {
        return `${lead} Even a fresh window would not cover it: add credits or grants, or lower the request's maximum output.`;
      }
      return `${lead}${resets}`;
    }
    case "creditsDepleted": {
      const f = detail.funding;
      if (f === undefined || f.available === 0) return "Usage limit reached: the tenant's credits are used up; add credits to continue.";
      return `Usage limit reached: this model request may cost up to ${formatCredits(f.amount)} credits and the tenant has ${formatCredits(f.available)} left; add credits to continue.`;
    }
  }
}

function describeSpan(mins: number): string {
  if (mins % (24 * 60) === 0) return `${mins / (24 * 60)}-day`;
  if (mins % 60 === 0) return `${mins / 60}-hour`;
  return `${mins}-minute`;
}

function turns(n: number | undefined): string {
  return n === 1 ? "1 turn" : `${n} turns`;
}
