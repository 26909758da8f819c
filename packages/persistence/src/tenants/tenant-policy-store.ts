import { Kysely } from "kysely";
import { PlanIdSchema, PolicyLimitsSchema, TenantIdSchema, firstIssue, type PolicyLimits } from "@threadmesh/protocol";
import type { Database } from "../database.ts";
import { migrateDatabase } from "../migrate.ts";
import { backendFor, type OpenStoreOptions } from "../open-store.ts";
import { TenancyInputError, UnknownTenantError } from "./tenant-store.ts";

/** The policy-limit columns of tenants and plans (migration 0007), as this store reads and writes them. */
interface PolicyLimitColumns {
  max_sandbox: string | null;
  /** JSON array of approval policy names. */
  approval_policies: string | null;
}
interface PolicyTables {
  tenants: PolicyLimitColumns & { id: string; plan: string };
  plans: PolicyLimitColumns & { id: string };
}

/** A tenant's own policy limits and those of its plan (none when the plan is not stored). */
export interface TenantPolicyLimits {
  tenant: PolicyLimits;
  plan: PolicyLimits;
}

export const NO_POLICY_LIMITS: PolicyLimits = Object.freeze({ maxSandbox: null, approvalPolicies: null });

/**
 * Reads and sets the policy limits of tenants and plans: the highest sandbox mode and the allowed
 * approval policies each narrows the server's caps to (session hosts resolve the effective caps).
 */
export class KyselyTenantPolicyStore {
  readonly #db: Kysely<PolicyTables>;
  readonly #ownsDb: boolean;

  constructor(opts: { db: Kysely<Database>; ownsDb?: boolean }) {
    this.#db = opts.db as unknown as Kysely<PolicyTables>;
    this.#ownsDb = opts.ownsDb ?? false;
  }

  /** The limits of a tenant and of its plan; null for an unknown tenant. */
  async limitsOf(tenantId: string): Promise<TenantPolicyLimits | null> {
    const row = await this.#db
      .selectFrom("tenants as t")
      .leftJoin("plans as p", "p.id", "t.plan")
      .select(["t.max_sandbox as tenantSandbox", "t.approval_policies as tenantPolicies", "p.max_sandbox as planSandbox", "p.approval_policies as planPolicies"])
      .where("t.id", "=", tenantId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      tenant: limitsOfRow(row.tenantSandbox, row.tenantPolicies),
      plan: limitsOfRow(row.planSandbox ?? null, row.planPolicies ?? null),
    };
  }

  /** Replaces a tenant's limits. */
  async setTenantLimits(tenantId: string, limits: PolicyLimits): Promise<void> {
    const id = parsed(TenantIdSchema, tenantId);
    const r = await this.#db.updateTable("tenants").set(limitsToRow(limits)).where("id", "=", id).executeTakeFirst();
    if (!r.numUpdatedRows) throw new UnknownTenantError(id);
  }

  /** Replaces a plan's limits; false when the plan is not stored. */
  async setPlanLimits(planId: string, limits: PolicyLimits): Promise<boolean> {
    const id = parsed(PlanIdSchema, planId);
    const r = await this.#db.updateTable("plans").set(limitsToRow(limits)).where("id", "=", id).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async close(): Promise<void> {
    if (this.#ownsDb) await this.#db.destroy();
  }
}

/** Opens the policy store at `url` (as `openStore` does; its own connection pool), migrated unless `migrate: false`. */
export async function openTenantPolicyStore(opts: OpenStoreOptions): Promise<KyselyTenantPolicyStore> {
  const db = new Kysely<Database>({ dialect: backendFor(opts).dialect });
  try {
    if (opts.migrate !== false) await migrateDatabase(db, opts.log);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new KyselyTenantPolicyStore({ db, ownsDb: true });
}

function limitsToRow(limits: PolicyLimits): PolicyLimitColumns {
  const l = parsed(PolicyLimitsSchema, limits);
  return { max_sandbox: l.maxSandbox, approval_policies: l.approvalPolicies === null ? null : JSON.stringify([...new Set(l.approvalPolicies)]) };
}

/** Stored limits; a value this version does not know narrows to nothing rather than widening. */
function limitsOfRow(sandbox: string | null, policies: string | null): PolicyLimits {
  const parsedLimits = PolicyLimitsSchema.safeParse({ maxSandbox: sandbox, approvalPolicies: policies === null ? null : JSON.parse(policies) });
  if (parsedLimits.success) return parsedLimits.data;
  return { maxSandbox: "read-only", approvalPolicies: [] };
}

function parsed<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ message: string }> } } }, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new TenancyInputError(firstIssue(r.error));
  return r.data;
}
