import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Redis } from "ioredis";
import { BurstLeases, leaseSize } from "./burst-leases.ts";
import type { Plan } from "./plan.ts";

/** Stage 1: requests per second per API key and per tenant. */
export interface BurstRefusal {
  scope: "key" | "tenant";
  limit: number;
  retryAfterMs: number;
}

export interface BurstLimiterOptions {
  /** Length of one counting window in seconds; default 1 (limits are per second). */
  durationSec?: number;
  /**
   * Distributed topology: counts live in Redis, shared by every router. While Redis cannot be reached,
   * an in-memory insurance limiter in each process takes over, allowing `insuranceFraction` of the limit
   * (default 0.5, at least 1 request), so admission keeps working, more strictly.
   */
  redis?: Redis;
  insuranceFraction?: number;
  /**
   * With Redis: limits of 32 a window or more are counted a few points at a time, leased ahead into this
   * process (see `BurstLeases`), so most requests are decided without a round trip. Default true.
   */
  leases?: boolean;
}

/**
 * `rate-limiter-flexible` limiters, one per scope and limit (plans differ in their limits): memory only
 * in the embedded topology; Redis with an in-memory insurance limiter in the distributed one. The Redis
 * client should be created with `enableOfflineQueue: false`, so that a command fails at once while
 * Redis is down instead of waiting in a queue; `rejectIfRedisNotReady` sends those calls straight to the
 * insurance limiter.
 */
export class BurstLimiter {
  readonly #durationSec: number;
  readonly #redis: Redis | undefined;
  readonly #insuranceFraction: number;
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #leases: BurstLeases | null;

  constructor(opts: BurstLimiterOptions = {}) {
    this.#durationSec = opts.durationSec ?? 1;
    this.#redis = opts.redis;
    this.#insuranceFraction = opts.insuranceFraction ?? 0.5;
    if (!(this.#insuranceFraction > 0 && this.#insuranceFraction <= 1)) throw new RangeError("insuranceFraction must be in (0, 1]");
    this.#leases = this.#redis !== undefined && opts.leases !== false ? new BurstLeases() : null;
  }

  /** True when counts are shared through Redis. */
  get distributed(): boolean {
    return this.#redis !== undefined;
  }

  /**
   * Counts one request of `keyId` in `tenantId` against both limits at once (one round trip to Redis
   * instead of two); returns the refusal when either is reached, the key's first.
   */
  async consume(tenantId: string, keyId: string, plan: Plan): Promise<BurstRefusal | null> {
    const [byKey, byTenant] = await Promise.all([this.#take("key", plan.burstPerKey, `${tenantId}:${keyId}`), this.#take("tenant", plan.burstPerTenant, tenantId)]);
    return byKey ?? byTenant;
  }

  async #take(scope: "key" | "tenant", limit: number, key: string): Promise<BurstRefusal | null> {
    const size = this.#leases === null ? 1 : leaseSize(limit);
    if (size >= 2) {
      const r = await this.#leases!.take(this.#limiter(scope, limit), `${scope}:${limit}`, key, size);
      return r.admitted ? null : { scope, limit, retryAfterMs: r.retryAfterMs };
    }
    try {
      await this.#limiter(scope, limit).consume(key, 1);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) return { scope, limit, retryAfterMs: Math.max(1, err.msBeforeNext) };
      throw err;
    }
  }

  #limiter(scope: "key" | "tenant", points: number): RateLimiterAbstract {
    const id = `${scope}:${points}`;
    let limiter = this.#limiters.get(id);
    if (limiter !== undefined) return limiter;
    const keyPrefix = `tm:burst:${scope}:${points}`;
    const duration = this.#durationSec;
    if (this.#redis === undefined) {
      limiter = new RateLimiterMemory({ points, duration, keyPrefix });
    } else {
      const insurance = new RateLimiterMemory({ points: Math.max(1, Math.floor(points * this.#insuranceFraction)), duration, keyPrefix: `${keyPrefix}:insurance` });
      limiter = new RateLimiterRedis({ storeClient: this.#redis, points, duration, keyPrefix, insuranceLimiter: insurance, rejectIfRedisNotReady: true });
    }
    this.#limiters.set(id, limiter);
    return limiter;
  }
}
