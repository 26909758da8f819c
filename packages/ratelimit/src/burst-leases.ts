import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

/** Points of a shared burst limit this process holds for one counting window. */
interface Lease {
  points: number;
  /** When the window the points were counted in ends (ms since the epoch, this process's clock). */
  expiresAtMs: number;
}

interface KeyLeases {
  leases: Lease[];
  /** The lease being taken from the store: requests that find no points wait for it instead of taking leases of their own. */
  pending: Promise<unknown> | null;
  /** The store refused a lease: until its window ends, requests take single points. */
  nearLimitUntilMs: number;
}

/** A key's limit must allow at least this many leases of two points or more before points are leased ahead. */
const LEASES_PER_WINDOW = 16;
/** Most points one lease takes. */
const MAX_LEASE = 16;
/** Keys held before expired ones are swept. */
const SWEEP_AT = 10_000;

/** Points one lease of a limit of `limit` takes: 1 (no leasing) for small limits, where every point counts. */
export function leaseSize(limit: number): number {
  return Math.min(MAX_LEASE, Math.floor(limit / LEASES_PER_WINDOW));
}

export type LeaseOutcome = { admitted: true } | { admitted: false; retryAfterMs: number };

/**
 * A process's share of burst limits counted in a shared store (Redis): points are taken from the store
 * a few at a time (a lease, counted there like requests, so every process together never admits more
 * than the limit in a window) and spent here without a round trip. A lease lasts until the end of the
 * store's window it was counted in. When what is left of a key's leases falls to half a lease, the next
 * one is taken in the background, so a steady stream of requests rarely waits for the store: only the
 * first request of a window does. Points leased and not spent by the window's end are lost: the limit
 * is then enforced more strictly, never less.
 *
 * A lease the store refuses (the limit is nearly reached) is given back at once, and the request takes
 * a single point instead, as without leasing; its refusal is the limiter's.
 */
export class BurstLeases {
  readonly #keys = new Map<string, KeyLeases>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /**
   * Spends one point of `key` from a lease held here, or takes a lease of `size` from `limiter` for it.
   * Synchronous (null) when a held lease answers; else the store's answer.
   */
  take(limiter: RateLimiterAbstract, id: string, key: string, size: number): LeaseOutcome | Promise<LeaseOutcome> {
    const k = this.#of(`${id}\u0000${key}`);
    const nowMs = this.#clock();
    while (k.leases.length > 0 && k.leases[0]!.expiresAtMs <= nowMs) k.leases.shift();
    const lease = k.leases.find((l) => l.points > 0);
    if (lease !== undefined) {
      lease.points--;
      let left = 0;
      for (const l of k.leases) left += l.points;
      if (left * 2 <= size && k.pending === null) this.#fetch(this.#lease(limiter, key, size, k, 0), k).catch(() => undefined);
      return { admitted: true };
    }
    if (nowMs < k.nearLimitUntilMs) return this.#single(limiter, key);
    // Requests at once that find no points share one lease: each taking its own would count many
    // leases against the limit at once and refuse requests the limit allows.
    const retry = (): LeaseOutcome | Promise<LeaseOutcome> => this.take(limiter, id, key, size);
    if (k.pending !== null) return k.pending.then(retry, retry);
    return this.#fetch(this.#lease(limiter, key, size, k, 1), k);
  }

  /** Marks `p` as the key's lease being taken until it settles. */
  #fetch<T>(p: Promise<T>, k: KeyLeases): Promise<T> {
    k.pending = p;
    const clear = (): void => {
      if (k.pending === p) k.pending = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Takes a lease of `size` points, `spend` of them at once; a refused lease is given back and one point taken instead. */
  async #lease(limiter: RateLimiterAbstract, key: string, size: number, k: KeyLeases, spend: 0 | 1): Promise<LeaseOutcome> {
    const startedAtMs = this.#clock();
    try {
      const res = await limiter.consume(key, size);
      this.#hold(k, { points: size - spend, expiresAtMs: startedAtMs + res.msBeforeNext });
      return { admitted: true };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      k.nearLimitUntilMs = startedAtMs + err.msBeforeNext;
    }
    await limiter.reward(key, size).catch(() => undefined);
    if (spend === 0) return { admitted: true };
    return this.#single(limiter, key);
  }

  async #single(limiter: RateLimiterAbstract, key: string): Promise<LeaseOutcome> {
    try {
      await limiter.consume(key, 1);
      return { admitted: true };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { admitted: false, retryAfterMs: Math.max(1, err.msBeforeNext) };
      throw err;
    }
  }

  #hold(k: KeyLeases, lease: Lease): void {
    if (lease.points <= 0) return;
    const same = k.leases.find((l) => l.expiresAtMs === lease.expiresAtMs);
    if (same !== undefined) same.points += lease.points;
    else {
      k.leases.push(lease);
      k.leases.sort((a, b) => a.expiresAtMs - b.expiresAtMs);
    }
  }

  #of(id: string): KeyLeases {
    let k = this.#keys.get(id);
    if (k !== undefined) return k;
    if (this.#keys.size >= SWEEP_AT) this.#sweep();
    k = { leases: [], pending: null, nearLimitUntilMs: 0 };
    this.#keys.set(id, k);
    return k;
  }

  /** Forgets keys whose leases all ended and that fetch nothing. */
  #sweep(): void {
    const nowMs = this.#clock();
    for (const [id, k] of this.#keys) {
      if (k.pending === null && k.nearLimitUntilMs <= nowMs && k.leases.every((l) => l.expiresAtMs <= nowMs)) this.#keys.delete(id);
    }
  }
}
