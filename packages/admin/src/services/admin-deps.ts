import type { Bus, HostRegistry } from "@threadmesh/mesh";
import type { CreditLedger, TenantRecord, TenantStore } from "@threadmesh/persistence";
import { DEFAULT_PLAN, type CreditStore, type Plan } from "@threadmesh/ratelimit";
import { notFound } from "../admin-errors.ts";

/** What the admin services act on. */
export interface AdminDeps {
  tenants: TenantStore;
  credits: CreditStore;
  ledger: CreditLedger;
  /** Where credential events (revocations, suspensions) and host drain requests go. */
  bus: Bus;
  /** Live session hosts. */
  hosts: HostRegistry;
  now?: () => number;
}

/** The tenant, or NOT_FOUND. */
export async function tenantOrNotFound(deps: AdminDeps, id: string): Promise<TenantRecord> {
  const t = await deps.tenants.getTenant(id);
  if (!t) throw notFound(`no tenant ${JSON.stringify(id)}`);
  return t;
}

/** The plan (the built-in `default` one when not stored), or NOT_FOUND. */
export async function planOrNotFound(deps: AdminDeps, id: string): Promise<Plan> {
  const p = (await deps.credits.getPlan(id)) ?? (id === DEFAULT_PLAN.id ? DEFAULT_PLAN : null);
  if (!p) throw notFound(`no plan ${JSON.stringify(id)} (create it first: PutPlan / \`threadmesh admin plans put\`)`);
  return p;
}
