import type { RateLimitWindow } from "@threadmesh/protocol";
import type { MicroCredits } from "./money.ts";
import type { Plan, PlanWindow } from "./plan.ts";

/** Stage 3: the plan's primary and secondary usage windows. */
export type WindowKind = "primary" | "secondary";

/** A window's usage as stored: settled usage and reservations in flight, for the window starting at `startMs`. */
export interface WindowUsage {
  startMs: number;
  used: MicroCredits;
  reserved: MicroCredits;
}

/**
 * Windows are fixed, back to back, aligned to the Unix epoch: the window holding `nowMs` starts at the
 * last multiple of its duration. Usage in a window is forgotten when the next one starts, as in Codex,
 * whose `resetsAt` is the end of the current window.
 */
export function windowStart(nowMs: number, windowMins: number): number {
  const len = windowMins * 60_000;
  return Math.floor(nowMs / len) * len;
}

export function windowEnd(nowMs: number, windowMins: number): number {
  return windowStart(nowMs, windowMins) + windowMins * 60_000;
}

/** The plan's window of `kind`, or null. */
export function planWindow(plan: Plan, kind: WindowKind): PlanWindow | null {
  return kind === "primary" ? plan.primary : plan.secondary;
}

/** What is left of a window for new reservations (never negative). */
export function windowRemaining(w: PlanWindow, usage: WindowUsage | null): MicroCredits {
  const taken = usage === null ? 0 : usage.used + usage.reserved;
  return Math.max(0, w.budget - taken);
}

/**
 * Usage the plan still covers now: the smaller remainder of its windows (a round counts in both). A plan
 * without windows covers nothing: every round is paid from grants and credits. An unlimited plan covers
 * everything (Infinity).
 */
export function planAllowance(plan: Plan, usage: Record<WindowKind, WindowUsage | null>): MicroCredits {
  if (plan.unlimited) return Number.POSITIVE_INFINITY;
  let allowance = 0;
  let any = false;
  for (const kind of ["primary", "secondary"] as const) {
    const w = planWindow(plan, kind);
    if (w === null) continue;
    const rem = windowRemaining(w, usage[kind]);
    allowance = any ? Math.min(allowance, rem) : rem;
    any = true;
  }
  return allowance;
}

/**
 * The window that limits the plan's allowance now (the smaller remainder; on a tie the one that resets
 * last), with the time it resets; null when the plan has no window.
 */
export function bindingWindow(plan: Plan, usage: Record<WindowKind, WindowUsage | null>, nowMs: number): { kind: WindowKind; resetsAtMs: number } | null {
  let found: { kind: WindowKind; remaining: number; resetsAtMs: number } | null = null;
  for (const kind of ["primary", "secondary"] as const) {
    const w = planWindow(plan, kind);
    if (w === null) continue;
    const remaining = windowRemaining(w, usage[kind]);
    const resetsAtMs = windowEnd(nowMs, w.windowMins);
    if (found === null || remaining < found.remaining || (remaining === found.remaining && resetsAtMs > found.resetsAtMs)) {
      found = { kind, remaining, resetsAtMs };
    }
  }
  return found === null ? null : { kind: found.kind, resetsAtMs: found.resetsAtMs };
}

/**
 * Codex's `RateLimitWindow`: `usedPercent` is settled usage (reservations in flight not counted) as a
 * whole percentage of the budget, rounded down and capped at 100 (a budget of 0 is 100 % used);
 * `resetsAt` is the end of the current window in Unix seconds. Usage stored for an earlier window counts
 * as none.
 */
export function rateLimitWindow(w: PlanWindow, usage: WindowUsage | null, nowMs: number): RateLimitWindow {
  const start = windowStart(nowMs, w.windowMins);
  const used = usage !== null && usage.startMs === start ? usage.used : 0;
  const usedPercent = w.budget === 0 ? 100 : Math.min(100, Math.floor((used * 100) / w.budget));
  return { usedPercent, windowDurationMins: w.windowMins, resetsAt: Math.floor((start + w.windowMins * 60_000) / 1000) };
}
