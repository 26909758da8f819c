import { tenantThreadLimit, type LimitsResolver } from "@threadmesh/protocol";
import type { ThreadRegistry } from "./thread-registry.ts";

/** `retryAfterMs` suggested when a tenant's threads fill its quota on this host. */
export const TENANT_QUOTA_RETRY_AFTER_MS = 1_000;

/**
 * Loaded threads per tenant on this host (`maxThreadsPerTenant`). A thread counts from the moment a
 * start, fork or resume is admitted until it unloads. At the limit, idle threads of the tenant (no
 * subscriber, no turn, nothing queued) are unloaded, least recently active first, to make room; only
 * when none is idle is the request refused with -32001 `tenantThreadLimit`.
 */
export class TenantQuota {
  readonly #registry: ThreadRegistry;
  readonly #limitsFor: LimitsResolver;
  /** Loads admitted and not finished yet, per tenant. */
  readonly #admitted = new Map<string, number>();

  constructor(registry: ThreadRegistry, limitsFor: LimitsResolver) {
    this.#registry = registry;
    this.#limitsFor = limitsFor;
  }

  /**
   * Reserves room for one more thread of `tenant`, evicting idle ones if needed. Resolves with the
   * release function to call once the thread is adopted (or the load failed); rejects at the limit.
   */
  async admit(tenant: string): Promise<() => void> {
    const limit = this.#limitsFor(tenant).maxThreadsPerTenant;
    this.#change(tenant, 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#change(tenant, -1);
    };
    try {
      const loaded = this.#registry.list(tenant);
      let excess = loaded.length + (this.#admitted.get(tenant) ?? 0) - limit;
      if (excess > 0) {
        const idle = loaded.sort((a, b) => a.lastActiveAt - b.lastActiveAt);
        for (const actor of idle) {
          if (excess <= 0) break;
          if (await actor.evictIfIdle()) excess--;
        }
      }
      if (excess > 0) throw tenantThreadLimit(limit, TENANT_QUOTA_RETRY_AFTER_MS);
      return release;
    } catch (err) {
      release();
      throw err;
    }
  }

  #change(tenant: string, delta: number): void {
    const n = (this.#admitted.get(tenant) ?? 0) + delta;
    if (n <= 0) this.#admitted.delete(tenant);
    else this.#admitted.set(tenant, n);
  }
}
