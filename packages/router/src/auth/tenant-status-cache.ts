import { DEFAULT_PRIORITY_CLASS, type TenantRecord } from "@threadmesh/persistence";
import { refuse, type AuthResult } from "./authenticator.ts";

/** What the router needs of the tenant store to check a tenant named by a JWT. */
export interface TenantLookup {
  getTenant(id: string): Promise<TenantRecord | null>;
}

/**
 * Status and priority class of tenants named by credentials that do not come from the store (JWTs), cached for `cacheMs`;
 * credential events drop entries at once ({@link forget}).
 */
export class TenantStatusCache {
  readonly #store: TenantLookup;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { status: "active" | "suspended" | "unknown"; priorityClass: number; until: number }>();
  #generation = 0;

  constructor(store: TenantLookup, cacheMs: number) {
    this.#store = store;
    this.#cacheMs = cacheMs;
  }

  /** null when the tenant may connect, else the refusal. */
  async refusalFor(tenant: string): Promise<AuthResult | null> {
    const r = await this.lookup(tenant);
    return "refusal" in r ? r.refusal : null;
  }

  /** The refusal when the tenant may not connect, else its priority class. */
  async lookup(tenant: string): Promise<{ refusal: AuthResult } | { priorityClass: number }> {
    let entry = this.#cache.get(tenant);
    if (entry === undefined || entry.until <= Date.now()) {
      const generation = this.#generation;
      let record: TenantRecord | null;
      try {
        record = await this.#store.getTenant(tenant);
      } catch {
        return { refusal: refuse("unavailable", "credential store unavailable; retry later") };
      }
      entry = { status: record?.status ?? "unknown", priorityClass: record?.priorityClass ?? DEFAULT_PRIORITY_CLASS, until: Date.now() + this.#cacheMs };
      if (generation === this.#generation) {
        this.#cache.set(tenant, entry);
        if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value!);
      }
    }
    if (entry.status === "unknown") return { refusal: refuse("unknown_tenant", `tenant ${tenant} does not exist`) };
    if (entry.status === "suspended") return { refusal: refuse("suspended_tenant", `tenant ${tenant} is suspended`) };
    return { priorityClass: entry.priorityClass };
  }

  forget(tenant: string): void {
    this.#generation++;
    this.#cache.delete(tenant);
  }
}
