import type { RateLimitSnapshot } from "@threadmesh/protocol";
import { balanceAvailable } from "./credits.ts";
import { grantLive, grantsAvailable } from "./grants.ts";
import { formatCredits } from "./money.ts";
import { rateLimitWindow } from "./plan-windows.ts";
import type { FundingState } from "./waterfall.ts";

/** Codex `RateLimitReachedType` values. */
export type RateLimitReachedType =
  | "rate_limit_reached"
  | "workspace_owner_credits_depleted"
  | "workspace_member_credits_depleted"
  | "workspace_owner_usage_limit_reached"
  | "workspace_member_usage_limit_reached";

/**
 * The tenant's `RateLimitSnapshot` (§4.7): the plan's windows, and credits whose `balance` is purchased
 * credits plus what live grants still hold, in credits as a decimal string. `hasCredits` is true when
 * grants or credits can pay for more than their reservations already hold.
 */
export function rateLimitSnapshot(state: FundingState, nowMs: number, reachedType: RateLimitReachedType | null = null): RateLimitSnapshot {
  const { plan } = state;
  const liveGrants = state.grants.filter((g) => grantLive(g, nowMs)).reduce((s, g) => s + g.remaining, 0);
  return {
    limitId: "codex",
    limitName: plan.name,
    normalModelSlug: null,
    primary: plan.primary === null ? null : rateLimitWindow(plan.primary, state.windows.primary, nowMs),
    secondary: plan.secondary === null ? null : rateLimitWindow(plan.secondary, state.windows.secondary, nowMs),
    credits: {
      hasCredits: plan.unlimited || grantsAvailable(state.grants, nowMs) + balanceAvailable(state.balance) > 0,
      unlimited: plan.unlimited,
      balance: formatCredits(state.balance.balance + liveGrants),
    },
    individualLimit: null,
    spendControlReached: null,
    planType: plan.planType,
    rateLimitReachedType: reachedType,
  };
}
