import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../../../../test/support/postgres.ts";
import { TenancyInputError, UnknownTenantError, openTenantPolicyStore, openTenantStore, type KyselyTenantPolicyStore, type KyselyTenantStore } from "../../src/index.ts";
import type { StoreTarget } from "../store-behaviour.ts";

const NONE = { maxSandbox: null, approvalPolicies: null };

/** Policy limits of tenants and plans (migration 0007), on every backend. */
function describePolicyStore(name: string, make: () => Promise<StoreTarget | null>): void {
  describe(`tenant policy store on ${name}`, () => {
    let target: StoreTarget | null = null;
    let tenants: KyselyTenantStore | null = null;
    let policies: KyselyTenantPolicyStore | null = null;
    const p = () => {
      assert.ok(policies, `${name} unavailable`);
      return policies;
    };
    before(async () => {
      target = await make();
      if (!target) return;
      tenants = await openTenantStore({ url: target.url, lastUsedFlushMs: 3_600_000 });
      policies = await openTenantPolicyStore({ url: target.url, migrate: false });
      await tenants.createTenant({ id: "acme", name: "Acme" });
      await tenants.createTenant({ id: "globex", name: "Globex" });
    });
    after(async () => {
      await policies?.close();
      await tenants?.close();
      await target?.dispose();
    });

    it("reads no limits until some are set, and null for an unknown tenant", async () => {
      assert.deepEqual(await p().limitsOf("acme"), { tenant: NONE, plan: NONE });
      assert.equal(await p().limitsOf("nobody"), null);
    });

    it("sets a tenant's and a plan's limits, each read with the tenant", async () => {
      await p().setTenantLimits("acme", { maxSandbox: "read-only", approvalPolicies: null });
      assert.equal(await p().setPlanLimits("default", { maxSandbox: null, approvalPolicies: ["on-request", "untrusted", "on-request"] }), true);
      assert.deepEqual(await p().limitsOf("acme"), {
        tenant: { maxSandbox: "read-only", approvalPolicies: null },
        plan: { maxSandbox: null, approvalPolicies: ["on-request", "untrusted"] },
      });
      assert.deepEqual(await p().limitsOf("globex"), { tenant: NONE, plan: { maxSandbox: null, approvalPolicies: ["on-request", "untrusted"] } });
      await p().setTenantLimits("acme", NONE);
      await p().setPlanLimits("default", NONE);
      assert.deepEqual(await p().limitsOf("acme"), { tenant: NONE, plan: NONE });
    });

    it("refuses unknown modes, policies and tenants, and reports an unknown plan", async () => {
      await assert.rejects(p().setTenantLimits("acme", { maxSandbox: "root" as never, approvalPolicies: null }), TenancyInputError);
      await assert.rejects(p().setTenantLimits("acme", { maxSandbox: null, approvalPolicies: ["always" as never] }), TenancyInputError);
      await assert.rejects(p().setTenantLimits("nobody", NONE), UnknownTenantError);
      assert.equal(await p().setPlanLimits("no-such-plan", NONE), false);
    });
  });
}

describePolicyStore("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-policy-"));
  return { url: `sqlite:${join(dir, "store.db")}`, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});

describePolicyStore("PostgreSQL", async () => {
  const db = await createTestDatabase();
  return db && { url: db.url, dispose: () => db.drop() };
});
