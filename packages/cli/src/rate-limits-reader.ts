import type { TenantStore } from "@threadmesh/persistence";
import type { RateLimitSnapshot } from "@threadmesh/protocol";
import { Admission, BurstLimiter, PriceTable, type CreditStore } from "@threadmesh/ratelimit";
import { BUILTIN_PRICES, tenantPlans } from "./plan-prices.ts";

/** `account/rateLimits/read` for a router: the tenant's snapshot from the credit store. */
export function rateLimitsReader(store: CreditStore, tenants: Pick<TenantStore, "getTenant">): (tenant: string) => Promise<RateLimitSnapshot> {
  const admission = new Admission({ store, prices: new PriceTable(BUILTIN_PRICES), burst: new BurstLimiter() });
  const planOf = tenantPlans(tenants);
  return async (tenant) => admission.rateLimits(tenant, await planOf(tenant));
}
