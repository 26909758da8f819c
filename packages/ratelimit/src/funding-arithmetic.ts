import type { ReservationParts } from "./credit-store.ts";
import { windowStart, type WindowUsage } from "./plan-windows.ts";
import type { Allocation, FundingState } from "./waterfall.ts";

/** `state` with a reservation's parts held (`sign` 1) or given back (-1), in memory. */
export function withParts(state: FundingState, parts: ReservationParts, sign: 1 | -1, nowMs: number): FundingState {
  // Parts held in a window that has since ended do not count in the current one.
  const window = (w: WindowUsage | null, startMs: number | null, mins: number | undefined): WindowUsage | null =>
    startMs === null || parts.window === 0 || mins === undefined || startMs !== windowStart(nowMs, mins) ? w : { startMs, used: w?.used ?? 0, reserved: (w?.reserved ?? 0) + sign * parts.window };
  return {
    plan: state.plan,
    windows: {
      primary: window(state.windows.primary, parts.primaryStartMs, state.plan.primary?.windowMins),
      secondary: window(state.windows.secondary, parts.secondaryStartMs, state.plan.secondary?.windowMins),
    },
    grants: state.grants.map((g) => {
      const p = parts.grants.find((x) => x.grantId === g.id);
      return p === undefined ? g : { ...g, reserved: g.reserved + sign * p.amount };
    }),
    balance: { balance: state.balance.balance, reserved: state.balance.reserved + sign * parts.balance },
  };
}

/** `state` after an allocation was charged, in memory: window usage up, grants and balance down. */
export function spent(state: FundingState, a: Allocation): FundingState {
  const window = (w: WindowUsage | null, startMs: number | null): WindowUsage | null =>
    startMs === null || a.window === 0 ? w : { startMs, used: (w !== null && w.startMs === startMs ? w.used : 0) + a.window, reserved: w !== null && w.startMs === startMs ? w.reserved : 0 };
  return {
    plan: state.plan,
    windows: { primary: window(state.windows.primary, a.primaryStartMs), secondary: window(state.windows.secondary, a.secondaryStartMs) },
    grants: state.grants.map((g) => {
      const p = a.grants.find((x) => x.grantId === g.id);
      return p === undefined ? g : { ...g, remaining: g.remaining - p.amount };
    }),
    balance: { balance: state.balance.balance - a.balance, reserved: state.balance.reserved },
  };
}

/** `state` with a new reservation's parts added to what is held. */
export function held(state: FundingState, parts: ReservationParts): FundingState {
  const addWindow = (w: WindowUsage | null, startMs: number | null): WindowUsage | null =>
    startMs === null || parts.window === 0 ? w : { startMs, used: w?.used ?? 0, reserved: (w?.reserved ?? 0) + parts.window };
  return {
    plan: state.plan,
    windows: { primary: addWindow(state.windows.primary, parts.primaryStartMs), secondary: addWindow(state.windows.secondary, parts.secondaryStartMs) },
    grants: state.grants.map((g) => {
      const p = parts.grants.find((x) => x.grantId === g.id);
      return p === undefined ? g : { ...g, reserved: g.reserved + p.amount };
    }),
    balance: { balance: state.balance.balance, reserved: state.balance.reserved + parts.balance },
  };
}
