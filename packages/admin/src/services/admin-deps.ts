import type { Bus, HostRegistry } from "@threadmesh/mesh";
import type { CreditLedger, TenantRecord, TenantStore } from "@threadmesh/persistence";
import { DEFAULT_PLAN, type CreditStore, type Plan } from "@threadmesh/ratelimit";
import { publishCredentialEvent, type CredentialChange } from "@threadmesh/mesh";
import { AdminError, notFound } from "../admin-errors.ts";
import { status } from "@grpc/grpc-js";

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

/**
 * Tells every router about a credential change already stored. When the bus fails the change stands
 * and the caller learns routers may keep using the credential until their cache lapses.
 */
export async function broadcast(deps: AdminDeps, change: CredentialChange, what: string): Promise<void> {
  try {
    await publishCredentialEvent(deps.bus, change);
  } catch (err) {
    throw new AdminError(status.UNAVAILABLE, `${what} is stored, but the routers could not be told over the bus (${(err as Error).message}); they apply it when their credential cache lapses (THREADMESH_CREDENTIAL_CACHE_MS); repeat the call to retry`);
  }
}
