import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { AuthRequest, AuthResult, Authenticator } from "./authenticator.ts";

export interface FailureThrottleOptions {
  /** Failed upgrades one address may have per minute; beyond it upgrades get 429 unchecked. */
  failuresPerMinute: number;
}

/**
 * Slows down credential guessing: every failed upgrade costs its address a point; an address out of
 * points gets `429` with `Retry-After` until its minute window ends, without its credentials being
 * checked (no store lookup, no signature check). Successful upgrades cost nothing.
 */
export class FailureThrottle implements Authenticator {
  readonly #inner: Authenticator;
  readonly #limiter: RateLimiterMemory;
  readonly #points: number;

  constructor(inner: Authenticator, opts: FailureThrottleOptions) {
    this.#inner = inner;
    this.#points = opts.failuresPerMinute;
    this.#limiter = new RateLimiterMemory({ keyPrefix: "auth-failures", points: opts.failuresPerMinute, duration: 60 });
  }

  async authenticate(req: AuthRequest): Promise<AuthResult> {
    const address = normalise(req.remoteAddress);
    const seen = await this.#limiter.get(address);
    if (seen !== null && seen.consumedPoints >= this.#points) return tooMany(seen);
    const result = await this.#inner.authenticate(req);
    if (!result.ok && result.reason !== "unavailable") {
      try {
        await this.#limiter.consume(address);
      } catch (res) {
        // This failure used the last point: the next upgrade from the address is refused.
        if (!(res instanceof RateLimiterRes)) throw res;
      }
    }
    return result;
  }
}

function tooMany(res: RateLimiterRes): AuthResult {
  const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return { ok: false, message: "too many failed authentication attempts; retry later", retryAfterSeconds };
}

function normalise(address: string | undefined): string {
  if (address === undefined) return "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
