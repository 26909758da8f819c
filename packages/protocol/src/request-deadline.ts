import { OverloadedError } from "./errors.ts";
import { LimitReason } from "./limits.ts";

/** Version of {@link RequestDeadline}; a receiver ignores a deadline of a version it does not know. */
export const DEADLINE_VERSION = 1 as const;

/**
 * When the sender of a command stops waiting for its reply (`CommandEnvelope.deadline`). Past it the
 * sender has already answered its caller (the router: -32001 `hostTimeout`), so the receiver starts
 * no work for it and answers -32001 `deadlineExceeded` instead.
 *
 * Carried as a start and a budget rather than an instant, so that a receiver whose clock runs behind
 * the sender's still bounds the wait: it anchors the start at the earlier of `sentAtMs` and its own
 * receipt time ({@link anchorDeadline}), as host heartbeats anchor leases. A receiver whose clock runs
 * ahead gives up early, never late.
 */
export interface RequestDeadline {
  v: typeof DEADLINE_VERSION;
  /** Wall-clock time the budget counts from, in ms since the epoch (the sender's clock until anchored). */
  sentAtMs: number;
  /** How long after `sentAtMs` a reply is still awaited, in ms. */
  budgetMs: number;
}

/** A deadline `budgetMs` from `nowMs`. */
export function requestDeadline(budgetMs: number, nowMs: number = Date.now()): RequestDeadline {
  return { v: DEADLINE_VERSION, sentAtMs: nowMs, budgetMs: Math.max(0, Math.floor(budgetMs)) };
}

/**
 * The deadline as this receiver's clock sees it: the start moved back to the receipt time when that is
 * earlier. Undefined for a missing, malformed or unknown-version deadline (no deadline).
 */
export function anchorDeadline(d: unknown, receivedAtMs: number = Date.now()): RequestDeadline | undefined {
  if (typeof d !== "object" || d === null) return undefined;
  const { v, sentAtMs, budgetMs } = d as Partial<RequestDeadline>;
  if (v !== DEADLINE_VERSION || typeof sentAtMs !== "number" || typeof budgetMs !== "number" || !Number.isFinite(sentAtMs) || !Number.isFinite(budgetMs)) {
    return undefined;
  }
  return { v, sentAtMs: Math.min(sentAtMs, receivedAtMs), budgetMs };
}

/** Time left before the deadline, in ms (negative once past it); Infinity without a deadline. */
export function deadlineLeftMs(d: RequestDeadline | null | undefined, nowMs: number = Date.now()): number {
  return d == null ? Infinity : d.sentAtMs + d.budgetMs - nowMs;
}

/** The -32001 a receiver answers for a command whose sender stopped waiting before its work started. */
export function deadlineExceeded(retryAfterMs: number): OverloadedError {
  return new OverloadedError(retryAfterMs, LimitReason.DeadlineExceeded, "Server overloaded: the request waited past its deadline and was not started; retry later.");
}
