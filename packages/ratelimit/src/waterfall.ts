import { takeFromBalance, type BalanceState } from "./credits.ts";
import { takeFromGrants, type GrantPart, type GrantState } from "./grants.ts";
import type { MicroCredits } from "./money.ts";
import type { Plan } from "./plan.ts";
import { planAllowance, windowStart, type WindowKind, type WindowUsage } from "./plan-windows.ts";

/** Everything that can pay for a round, as loaded for one tenant at one instant. */
export interface FundingState {
  plan: Plan;
  /** Usage of the current primary and secondary windows (null: nothing recorded in them yet). */
  windows: Record<WindowKind, WindowUsage | null>;
  grants: readonly GrantState[];
  balance: BalanceState;
}

/**
 * Where an amount comes from: the plan's windows (counted in both), then grants, then purchased credits.
 * `shortfall` is what none of them could cover.
 */
export interface Allocation {
  window: MicroCredits;
  /** Start of the primary / secondary window the `window` part counts in (null: the plan has none). */
  primaryStartMs: number | null;
  secondaryStartMs: number | null;
  grants: GrantPart[];
  balance: MicroCredits;
  shortfall: MicroCredits;
}

/** The waterfall: plan windows → grants (oldest expiry first, never expired ones) → purchased credits. */
export function allocate(amount: MicroCredits, state: FundingState, nowMs: number): Allocation {
  const { plan } = state;
  const window = Math.min(amount, planAllowance(plan, state.windows));
  const fromGrants = takeFromGrants(state.grants, amount - window, nowMs);
  const fromBalance = takeFromBalance(state.balance, fromGrants.rest);
  return {
    window,
    primaryStartMs: plan.primary === null ? null : windowStart(nowMs, plan.primary.windowMins),
    secondaryStartMs: plan.secondary === null ? null : windowStart(nowMs, plan.secondary.windowMins),
    grants: fromGrants.parts,
    balance: fromBalance.part,
    shortfall: fromBalance.rest,
  };
}

/** Total an allocation covers. */
export function covered(a: Pick<Allocation, "window" | "grants" | "balance">): MicroCredits {
  return a.window + a.balance + a.grants.reduce((s, g) => s + g.amount, 0);
}
