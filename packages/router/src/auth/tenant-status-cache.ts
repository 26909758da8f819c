import type { TenantRecord } from "@threadmesh/persistence";
import { refuse, type AuthResult } from "./authenticator.ts";

/** What the router needs of the tenant store to check a tenant named by a JWT. */
export interface TenantLookup {
  getTenant(id: string): Promise<TenantRecord | null>;
}

/**
 * Status of tenants named by credentials that do not come from the store (JWTs), cached for `cacheMs`;
 * credential events drop entries at once ({@link forget}).
 */
export class TenantStatusCache {
  readonly #store: TenantLookup;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { status: "active" | "suspended" | "unknown"; until: number }>();
  #generation = 0;

  constructor(store: TenantLookup, cacheMs: number) {
    this.#store = store;
    this.#cacheMs = cacheMs;
  }

  /** null when the tenant may connect, else the refusal. */
  async refusalFor(tenant: string): Promise<AuthResult | null> {
    let entry = this.#cache.get(tenant);
    if (entry === undefined || entry.until <= Date.now()) {
      const generation = this.#generation;
      let record: TenantRecord | null;
      try {
        record = await this.#store.getTenant(tenant);
      } catch {
        return refuse("unavailable", "credential store unavailable; retry later");
      }
      entry = { status: record?.status ?? "unknown", until: Date.now() + this.#cacheMs };
      if (generation === this.#generation) {
        this.#cache.set(tenant, entry);
        if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value!);
      }
    }
    if (entry.status === "unknown") return refuse("unknown_tenant", `tenant ${tenant} does not exist`);
    if (entry.status === "suspended") return refuse("suspended_tenant", `tenant ${tenant} is suspended`);
    return null;
  }

  forget(tenant: string): void {
    this.#generation++;
    this.#cache.delete(tenant);
  }
}
