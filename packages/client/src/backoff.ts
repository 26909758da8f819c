import { AbortError } from "./errors.ts";

export interface BackoffOptions {
  /** First delay, ms (default 200). */
  initialDelayMs?: number;
  /** Cap of any delay, ms (default 5,000). */
  maxDelayMs?: number;
  /** Attempts before giving up (default: no limit). */
  maxAttempts?: number;
}

/**
 * "Full jitter": a uniformly random delay up to min(cap, initial · 2^attempt), so clients dropped
 * together by one router do not come back in step. `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialDelayMs ?? 200;
  const cap = opts.maxDelayMs ?? 5_000;
  const ceiling = Math.min(cap, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * random());
}

/** Resolves after `ms`, or rejects with {@link AbortError} when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
