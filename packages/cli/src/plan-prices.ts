import { DEFAULT_PLAN, type TenantStore } from "@threadmesh/persistence";
import type { ModelPrice } from "@threadmesh/ratelimit";
// Types only: a router reads plans without loading the session host.
import type { PlanLookup } from "@threadmesh/session-host";

/**
 * Built-in prices (micro-credits per million tokens, a credit being a US dollar): the default model's
 * list prices, for the model simulator's names too, and for any other model (`*`).
 */
const CODEX_PRICE: ModelPrice = { inputPerMillion: 1_250_000, cachedInputPerMillion: 125_000, outputPerMillion: 10_000_000 };
export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  "gpt-5.1-codex": CODEX_PRICE,
  "sim-model": CODEX_PRICE,
  "*": CODEX_PRICE,
});

/** The plan of each tenant from the tenant store, read at most every `cacheMs`; `default` for a tenant it does not know. */
export function tenantPlans(tenants: Pick<TenantStore, "getTenant">, cacheMs = 5_000): PlanLookup {
  const cache = new Map<string, { plan: string; atMs: number }>();
  return async (tenant) => {
    const now = Date.now();
    const hit = cache.get(tenant);
    if (hit !== undefined && now - hit.atMs < cacheMs) return hit.plan;
    const plan = (await tenants.getTenant(tenant))?.plan ?? DEFAULT_PLAN;
    cache.set(tenant, { plan, atMs: now });
    return plan;
  };
}
