import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus } from "@threadmesh/mesh";
import { openStore, openTenantPolicyStore, openTenantStore } from "@threadmesh/persistence";
import { OPERATOR_POLICY_CAPS, SHARED_POLICY_CAPS, SessionHost, TenantCapsCache, narrowCaps } from "../src/index.ts";
import { HostTestClient } from "./host-test-client.ts";

test("plan and tenant limits only narrow the server's caps", () => {
  const caps = narrowCaps(OPERATOR_POLICY_CAPS, { maxSandbox: "workspace-write", approvalPolicies: ["on-request", "never"] }, { maxSandbox: "danger-full-access", approvalPolicies: ["never", "untrusted"] });
  assert.equal(caps.maxSandbox, "workspace-write", "a tenant cannot widen its plan's highest mode");
  assert.deepEqual(caps.approvalPolicies, ["never"], "only policies every level allows");
  assert.equal(caps.escalation, OPERATOR_POLICY_CAPS.escalation);
  assert.equal(narrowCaps(SHARED_POLICY_CAPS, { maxSandbox: "danger-full-access", approvalPolicies: null }).maxSandbox, "workspace-write");
  assert.deepEqual(narrowCaps(SHARED_POLICY_CAPS).approvalPolicies, SHARED_POLICY_CAPS.approvalPolicies);
});

test("a tenant's caps are refused until read, read again after the time to live, and kept while the store fails", async () => {
  let now = 0;
  let reads = 0;
  let failing = false;
  let limits = { maxSandbox: "read-only" as const, approvalPolicies: null };
  const cache = new TenantCapsCache({
    server: OPERATOR_POLICY_CAPS,
    ttlMs: 1_000,
    now: () => now,
    source: {
      limitsOf: async () => {
        reads++;
        if (failing) throw new Error("store down");
        return { tenant: limits, plan: { maxSandbox: null, approvalPolicies: null } };
      },
    },
  });
  assert.throws(() => cache.lookup("acme"), /not loaded/);
  await Promise.all([cache.prepare("acme"), cache.prepare("acme")]);
  assert.equal(reads, 1, "concurrent prepares share one read");
  assert.equal(cache.lookup("acme").maxSandbox, "read-only");
  limits = { maxSandbox: "workspace-write", approvalPolicies: null } as never;
  await cache.prepare("acme");
  assert.equal(reads, 1, "fresh caps are not read again");
  now = 1_000;
  await cache.prepare("acme");
  assert.equal(cache.lookup("acme").maxSandbox, "workspace-write");
  failing = true;
  now = 2_000;
  await cache.prepare("acme");
  assert.equal(cache.lookup("acme").maxSandbox, "workspace-write", "caps read before stay while the store fails");
  await assert.rejects(cache.prepare("globex"), /store down/);
  assert.throws(() => cache.lookup("globex"), /not loaded/);
});

test("a host resolves each tenant's caps from its plan's and its own limits in the store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-tenant-caps-"));
  chmodSync(dir, 0o711);
  const url = `sqlite:${join(dir, "threadmesh.db")}`;
  const bus = new InProcessBus();
  const store = await openStore({ url });
  const tenants = await openTenantStore({ url, migrate: false, lastUsedFlushMs: 3_600_000 });
  const policies = await openTenantPolicyStore({ url, migrate: false });
  const host = await SessionHost.create({
    bus,
    store,
    tenantPolicies: policies,
    model: { baseURL: "http://127.0.0.1:9/v1", apiKey: "unused", model: "sim-model", maxRetries: 0 },
    config: { workspaceRoot: join(dir, "workspaces"), policyCaps: OPERATOR_POLICY_CAPS },
    hostId: "host-caps",
  });
  try {
    await tenants.createTenant({ id: "acme", name: "Acme" });
    await tenants.createTenant({ id: "globex", name: "Globex" });
    await policies.setPlanLimits("default", { maxSandbox: "workspace-write", approvalPolicies: null });
    await policies.setTenantLimits("acme", { maxSandbox: "read-only", approvalPolicies: ["on-request", "untrusted"] });
    const acme = new HostTestClient(bus, "acme");
    const globex = new HostTestClient(bus, "globex");
    const initech = new HostTestClient(bus, "initech");

    const sandbox = await acme.error("thread/start", { sandbox: "workspace-write", approvalPolicy: "on-request" });
    assert.equal(sandbox.code, -32602);
    assert.deepEqual(sandbox.data, { field: "sandbox" });
    assert.match(sandbox.message, /at most read-only/);
    const approval = await acme.error("thread/start", { sandbox: "read-only", approvalPolicy: "never" });
    assert.deepEqual(approval.data, { field: "approvalPolicy" });
    assert.match(approval.message, /allowed: untrusted, on-request/);
    const started = await acme.call("thread/start", { sandbox: "read-only", approvalPolicy: "on-request" });
    assert.equal(started.sandbox.type, "readOnly");

    // globex has only its plan's limit; a tenant the store does not know has the server's caps.
    assert.match((await globex.error("thread/start", { sandbox: "danger-full-access" })).message, /at most workspace-write/);
    assert.equal((await globex.call("thread/start", { sandbox: "workspace-write", approvalPolicy: "never" })).sandbox.type, "workspaceWrite");
    assert.equal((await initech.call("thread/start", { sandbox: "danger-full-access", approvalPolicy: "on-request" })).sandbox.type, "dangerFullAccess");
    for (const c of [acme, globex, initech]) c.close();
  } finally {
    await host.close();
    await bus.close();
    await policies.close();
    await tenants.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
