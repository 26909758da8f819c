import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { NatsBus } from "@threadmesh/mesh/nats";
import { openTenantStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { CREDENTIAL_WITHDRAWN_CLOSE_CODE, Router } from "@threadmesh/router";
import { noopTelemetry } from "@threadmesh/telemetry";
import { Admission, BurstLimiter, PriceTable } from "@threadmesh/ratelimit";
import { startNatsServer, type NatsServer } from "../../../test/support/nats-server.ts";
import { TestClient } from "../../../test/support/ws-client.ts";
import { AdminCallError, AdminClient } from "../src/index.ts";
import { ADMIN_TOKEN, healthCheck, startAdmin, testDatabase, type AdminHarness } from "./admin-harness.ts";

/** The bound on withdrawing a credential from live connections, ms. */
const WITHDRAWAL_DEADLINE_MS = 2_000;
const CREDIT = 1_000_000;

async function rejects(p: Promise<unknown>, code: status, message?: RegExp): Promise<AdminCallError> {
  const err = await p.then(
    () => assert.fail(`expected ${status[code]}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AdminCallError, String(err));
  assert.equal(err.codeName, status[code], err.message);
  if (message) assert.match(err.message, message);
  return err;
}

function closedWithin(c: TestClient, ms: number): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`connection still open ${ms} ms after the revocation`)), ms)));
  return Promise.race([c.waitClose(), deadline]).finally(() => clearTimeout(timer));
}

for (const kind of ["sqlite", "postgres"] as const) {
  describe(`admin API over gRPC on ${kind}, a router on nats-server`, () => {
    let nats: NatsServer | null;
    let db: { url: string; drop(): Promise<void> } | null;
    let adminBus: NatsBus;
    let routerBus: NatsBus;
    let routerTenants: KyselyTenantStore;
    let router: Router;
    let wsUrl: string;
    let admin: AdminHarness;
    const clients: TestClient[] = [];

    before(async () => {
      nats = await startNatsServer();
      db = await testDatabase(kind);
      if (!nats || !db) return;
      adminBus = await NatsBus.connect({ servers: [nats.url], name: "admin" });
      admin = await startAdmin({ url: db.url, bus: adminBus });
      routerBus = await NatsBus.connect({ servers: [nats.url], name: "router" });
      // A router of its own process in production: its own store connection, credentials cached for an
      // hour so that only the broadcast can withdraw them in time.
      routerTenants = await openTenantStore({ url: db.url, migrate: false });
      router = await Router.create({ bus: routerBus, telemetry: noopTelemetry(), routerId: "router-admin-test", tenants: routerTenants, config: { pingIntervalMs: 0, credentialCacheMs: 3_600_000 } });
      wsUrl = (await router.listen()).url;
    });
    after(async () => {
      for (const c of clients) await c.close();
      await router?.close();
      await routerBus?.close();
      await routerTenants?.close();
      await admin?.close();
      await adminBus?.close();
      await db?.drop();
      await nats?.stop();
    });

    test("from an empty database to a tenant with a plan, a working key and credits; revoking the key closes its live connection", async (t) => {
      if (!nats || !db) return t.skip("nats-server or PostgreSQL unavailable");
      const c = admin.client;
      // A new database holds only the default tenant its migration creates.
      assert.deepEqual((await c.call<{ tenants: Array<{ id: string }> }>("TenantService", "ListTenants", {})).tenants.map((x) => x.id), ["default"]);

      const plan = await c.call("PlanService", "PutPlan", {
        plan: { id: "partner", name: "Partner", planType: "business", priorityClass: 5, unlimited: false, primary: { windowMins: 300, budget: 5 * CREDIT }, maxTurnsPerTenant: 20, maxTurnsPerUser: 4, burstPerKey: 10, burstPerTenant: 50 },
      });
      assert.equal(plan.id, "partner");
      assert.deepEqual({ ...(plan.primary as object) }, { windowMins: 300, budget: String(5 * CREDIT) });
      assert.equal(plan.secondary, undefined, "a window the plan lacks stays absent");
      const plans = await c.call<{ plans: Array<{ id: string }> }>("PlanService", "ListPlans", {});
      assert.deepEqual(plans.plans.map((p) => p.id).sort(), ["default", "partner"]);

      const tenant = await c.call("TenantService", "CreateTenant", { id: "acme", name: "Acme Inc", plan: "partner" });
      assert.equal(tenant.plan, "partner");
      assert.equal(tenant.status, "active");
      assert.equal((await c.call("TenantService", "GetTenant", { id: "acme" })).name, "Acme Inc");
      assert.equal((await c.call("TenantService", "UpdateTenant", { id: "acme", priorityClass: 7 })).priorityClass, 7);

      const created = await c.call<{ key: { id: string; prefix: string; tenantId: string }; secret: string }>("ApiKeyService", "CreateApiKey", { tenantId: "acme", name: "partner integration" });
      assert.ok(created.secret.startsWith(created.key.prefix), "the secret starts with the visible prefix");
      const listed = await c.call<{ keys: Array<Record<string, unknown>> }>("ApiKeyService", "ListApiKeys", { tenantId: "acme" });
      assert.equal(listed.keys.length, 1);
      assert.ok(!JSON.stringify(listed).includes(created.secret), "listings never show the secret");

      const live = await TestClient.initialized(wsUrl, { token: created.secret });
      clients.push(live);
      assert.ok(Array.isArray((await live.call("model/list", {})).data), "the key authenticates a working connection");

      const expiresAtMs = Date.now() + 86_400_000;
      const grant = await c.call<{ applied: boolean; grantId: string; balance: { grantsRemaining: string } }>("CreditService", "AddGrant", { tenantId: "acme", grantId: "welcome", amount: 2 * CREDIT, expiresAtMs });
      assert.deepEqual([grant.applied, grant.grantId, grant.balance.grantsRemaining], [true, "welcome", String(2 * CREDIT)]);
      assert.equal((await c.call("CreditService", "AddGrant", { tenantId: "acme", grantId: "welcome", amount: 2 * CREDIT, expiresAtMs })).applied, false, "a repeated grant id changes nothing");
      const top = await c.call<{ applied: boolean; idempotencyKey: string }>("CreditService", "TopUp", { tenantId: "acme", amount: 10 * CREDIT, idempotencyKey: "order-1" });
      assert.deepEqual([top.applied, top.idempotencyKey], [true, "order-1"]);
      await c.call("CreditService", "TopUp", { tenantId: "acme", amount: 5 * CREDIT });

      const balance = await c.call<{ balance: string; reserved: string; grants: Array<{ id: string; remaining: string; expiresAtMs: string }> }>("CreditService", "GetBalance", { tenantId: "acme" });
      assert.equal(balance.balance, String(15 * CREDIT));
      assert.equal(balance.reserved, "0");
      assert.deepEqual(balance.grants.map((g) => [g.id, g.remaining, g.expiresAtMs]), [["welcome", String(2 * CREDIT), String(expiresAtMs)]]);

      const first = await c.call<{ entries: Array<{ kind: string; amount: string; account: string }>; nextPageToken: string }>("CreditService", "ListLedger", { tenantId: "acme", pageSize: 2 });
      assert.equal(first.entries.length, 2);
      assert.notEqual(first.nextPageToken, "");
      const second = await c.call<{ entries: Array<{ kind: string; amount: string; account: string }>; nextPageToken: string }>("CreditService", "ListLedger", { tenantId: "acme", pageSize: 2, pageToken: first.nextPageToken });
      assert.equal(second.nextPageToken, "");
      const entries = [...first.entries, ...second.entries];
      assert.deepEqual(entries.map((e) => `${e.kind} ${e.account} ${e.amount}`).sort(), [`grant grant:welcome ${2 * CREDIT}`, `topUp balance ${10 * CREDIT}`, `topUp balance ${5 * CREDIT}`].sort());

      const usage = await c.call<{ users: unknown[]; total: { rounds: string; cost: string } }>("CreditService", "GetUsage", { tenantId: "acme", fromMs: Date.now() - 60_000 });
      assert.deepEqual([usage.users, usage.total.rounds, usage.total.cost], [[], "0", "0"]);
      const rec = await c.call<{ ok: boolean; reports: Array<{ tenantId: string; ok: boolean; balance: string }> }>("CreditService", "Reconcile", {});
      assert.equal(rec.ok, true);
      assert.deepEqual(rec.reports.filter((r) => r.tenantId === "acme").map((r) => [r.ok, r.balance]), [[true, String(15 * CREDIT)]]);

      await c.call("ApiKeyService", "RevokeApiKey", { tenantId: "acme", keyId: created.key.id });
      assert.deepEqual(await closedWithin(live, WITHDRAWAL_DEADLINE_MS), { code: CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason: "API key revoked" });
      await assert.rejects(TestClient.connect(wsUrl, { token: created.secret }), /upgrade refused: 401/);
      const after = await c.call<{ keys: Array<{ revokedAtMs: string }> }>("ApiKeyService", "ListApiKeys", { tenantId: "acme", includeRevoked: true });
      assert.ok(Number(after.keys[0]!.revokedAtMs) > 0);
    });

    test("suspending a tenant closes its connections; resuming lets its keys in again", async (t) => {
      if (!nats || !db) return t.skip("nats-server or PostgreSQL unavailable");
      const c = admin.client;
      await c.call("TenantService", "CreateTenant", { id: "beta", name: "Beta" });
      const { secret } = await c.call<{ secret: string }>("ApiKeyService", "CreateApiKey", { tenantId: "beta", name: "k" });
      const live = await TestClient.initialized(wsUrl, { token: secret });
      clients.push(live);
      assert.equal((await c.call("TenantService", "SuspendTenant", { id: "beta" })).status, "suspended");
      assert.equal((await closedWithin(live, WITHDRAWAL_DEADLINE_MS)).code, CREDENTIAL_WITHDRAWN_CLOSE_CODE);
      assert.equal((await c.call("TenantService", "ResumeTenant", { id: "beta" })).status, "active");
      const again = await TestClient.initialized(wsUrl, { token: secret });
      clients.push(again);
      assert.ok(Array.isArray((await again.call("model/list", {})).data));
    });

    test("usage by user and time range, settlements in the ledger and the balance, tenants listed a page at a time", async (t) => {
      if (!nats || !db) return t.skip("nats-server or PostgreSQL unavailable");
      const c = admin.client;
      await c.call("PlanService", "PutPlan", { plan: { id: "metered", name: "Metered", planType: "pro", priorityClass: 2, unlimited: false, maxTurnsPerTenant: 10, maxTurnsPerUser: 10, burstPerKey: 100, burstPerTenant: 100 } });
      await c.call("TenantService", "CreateTenant", { id: "delta", name: "Delta", plan: "metered" });
      await c.call("CreditService", "TopUp", { tenantId: "delta", amount: 5 * CREDIT, idempotencyKey: "delta-1" });
      // Rounds admitted and settled by the rate limiter against the same store, as a session host does.
      const model = "sim-model";
      const prices = new PriceTable({ [model]: { inputPerMillion: 2_000_000, cachedInputPerMillion: 200_000, outputPerMillion: 8_000_000 } });
      const hourAgo = Date.now() - 3_600_000;
      let clock = hourAgo;
      const admission = new Admission({ store: admin.stores.credits, prices, burst: new BurstLimiter(), clock: () => clock });
      const usage = { inputTokens: 1_000, cachedInputTokens: 200, outputTokens: 500 };
      const cost = prices.cost(model, usage);
      const round = async (userId: string, turnId: string) => {
        const a = await admission.admit({ kind: "turnStart", tenantId: "delta", userId, keyId: "k", planId: "metered", turnId, round: 0, model, inputTokens: 1_000, maxOutputTokens: 1_000 });
        assert.equal(a.admitted, true);
        await admission.settle({ tenantId: "delta", userId, planId: "metered", turnId, round: 0, model, usage });
      };
      await round("alice", "turn-a");
      clock = Date.now();
      const recent = clock;
      await round("alice", "turn-b");
      await round("bob", "turn-c");

      type Usage = { userId: string; rounds: string; inputTokens: string; outputTokens: string; cost: string; fromBalance: string };
      const all = await c.call<{ users: Usage[]; total: Usage }>("CreditService", "GetUsage", { tenantId: "delta" });
      assert.deepEqual(all.users.map((u) => [u.userId, u.rounds, u.cost, u.fromBalance]), [["alice", "2", String(2 * cost), String(2 * cost)], ["bob", "1", String(cost), String(cost)]]);
      assert.deepEqual([all.total.rounds, all.total.inputTokens, all.total.outputTokens, all.total.cost], ["3", "3000", "1500", String(3 * cost)]);
      const bob = await c.call<{ users: Usage[] }>("CreditService", "GetUsage", { tenantId: "delta", userId: "bob" });
      assert.deepEqual(bob.users.map((u) => u.userId), ["bob"]);
      const lastHalfHour = await c.call<{ users: Usage[]; total: Usage }>("CreditService", "GetUsage", { tenantId: "delta", fromMs: recent - 1_800_000 });
      assert.deepEqual(lastHalfHour.users.map((u) => [u.userId, u.rounds]), [["alice", "1"], ["bob", "1"]]);
      const earlier = await c.call<{ users: Usage[] }>("CreditService", "GetUsage", { tenantId: "delta", fromMs: hourAgo - 1_000, toMs: recent - 1_800_000 });
      assert.deepEqual(earlier.users.map((u) => [u.userId, u.rounds]), [["alice", "1"]]);

      const balance = await c.call<{ balance: string }>("CreditService", "GetBalance", { tenantId: "delta" });
      assert.equal(balance.balance, String(5 * CREDIT - 3 * cost));
      const ledger = await c.call<{ entries: Array<{ kind: string; amount: string }> }>("CreditService", "ListLedger", { tenantId: "delta" });
      assert.deepEqual(ledger.entries.map((e) => `${e.kind} ${e.amount}`).sort(), [`settlement ${-cost}`, `settlement ${-cost}`, `settlement ${-cost}`, `topUp ${5 * CREDIT}`].sort());
      assert.equal((await c.call<{ ok: boolean }>("CreditService", "Reconcile", { tenantId: "delta" })).ok, true);

      const everyone = (await c.call<{ tenants: Array<{ id: string }> }>("TenantService", "ListTenants", { pageSize: 1_000 })).tenants.map((x) => x.id);
      const paged: string[] = [];
      let pageToken = "";
      do {
        const page = await c.call<{ tenants: Array<{ id: string }>; nextPageToken: string }>("TenantService", "ListTenants", { pageSize: 2, pageToken });
        assert.ok(page.tenants.length <= 2);
        paged.push(...page.tenants.map((x) => x.id));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      assert.deepEqual(paged, everyone);
      assert.ok(everyone.length >= 4);
    });

    test("callers without the admin token are UNAUTHENTICATED; the health service answers SERVING to anyone", async (t) => {
      if (!nats || !db) return t.skip("nats-server or PostgreSQL unavailable");
      for (const token of [null, "wrong-token", `${ADMIN_TOKEN}x`]) {
        const stranger = new AdminClient({ address: admin.server.address, token });
        try {
          await rejects(stranger.call("TenantService", "ListTenants", {}), status.UNAUTHENTICATED, /admin credential/);
          await rejects(stranger.call("CreditService", "TopUp", { tenantId: "acme", amount: 1 }), status.UNAUTHENTICATED);
        } finally {
          stranger.close();
        }
      }
      assert.equal(await healthCheck(admin.server.address, ""), "SERVING");
      assert.equal(await healthCheck(admin.server.address, "threadmesh.admin.v1.TenantService"), "SERVING");
    });

    test("bad input is INVALID_ARGUMENT naming the field, unknown ids NOT_FOUND, a taken id ALREADY_EXISTS", async (t) => {
      if (!nats || !db) return t.skip("nats-server or PostgreSQL unavailable");
      const c = admin.client;
      await rejects(c.call("TenantService", "CreateTenant", { id: "no spaces", name: "x" }), status.INVALID_ARGUMENT, /^id: tenant id must be/);
      await rejects(c.call("TenantService", "CreateTenant", { id: "ok", name: "" }), status.INVALID_ARGUMENT, /name: tenant name must not be empty/);
      await rejects(c.call("TenantService", "CreateTenant", { id: "ok", name: "Ok", plan: "gold" }), status.NOT_FOUND, /no plan "gold"/);
      await rejects(c.call("TenantService", "CreateTenant", { id: "ok", name: "Ok", priorityClass: 12 }), status.INVALID_ARGUMENT, /priorityClass: priority class must be 0 to 9/);
      await c.call("TenantService", "CreateTenant", { id: "gamma", name: "Gamma" });
      await rejects(c.call("TenantService", "CreateTenant", { id: "gamma", name: "Gamma" }), status.ALREADY_EXISTS);
      await rejects(c.call("TenantService", "GetTenant", { id: "nobody" }), status.NOT_FOUND, /no tenant "nobody"/);
      await rejects(c.call("TenantService", "SuspendTenant", { id: "nobody" }), status.NOT_FOUND);
      await rejects(c.call("ApiKeyService", "CreateApiKey", { tenantId: "nobody", name: "k" }), status.NOT_FOUND);
      await rejects(c.call("ApiKeyService", "RevokeApiKey", { tenantId: "gamma", keyId: "key_missing" }), status.NOT_FOUND, /no API key/);
      await rejects(c.call("ApiKeyService", "CreateApiKey", { tenantId: "gamma", name: "k", scopes: ["Bad Scope"] }), status.INVALID_ARGUMENT, /scopes\.0: scope must be/);
      await rejects(c.call("PlanService", "GetPlan", { id: "gold" }), status.NOT_FOUND);
      await rejects(c.call("PlanService", "PutPlan", {}), status.INVALID_ARGUMENT, /plan/);
      await rejects(c.call("PlanService", "PutPlan", { plan: { id: "p", name: "P", planType: "pro", priorityClass: 1, maxTurnsPerTenant: 0, maxTurnsPerUser: 1, burstPerKey: 1, burstPerTenant: 1 } }), status.INVALID_ARGUMENT, /plan\.maxTurnsPerTenant/);
      await rejects(c.call("CreditService", "TopUp", { tenantId: "gamma", amount: 0 }), status.INVALID_ARGUMENT, /amount must not be zero/);
      await rejects(c.call("CreditService", "TopUp", { tenantId: "nobody", amount: 5 }), status.NOT_FOUND);
      await rejects(c.call("CreditService", "AddGrant", { tenantId: "gamma", amount: 5, expiresAtMs: Date.now() - 1_000 }), status.INVALID_ARGUMENT, /not in the future/);
      await rejects(c.call("CreditService", "ListLedger", { tenantId: "gamma", pageToken: "garbage" }), status.INVALID_ARGUMENT, /page token/);
      await rejects(c.call("CreditService", "GetUsage", { tenantId: "gamma", fromMs: 10, toMs: 5 }), status.INVALID_ARGUMENT, /toMs must be after fromMs/);
      await rejects(c.call("TenantService", "ListTenants", { pageSize: 5_000 }), status.INVALID_ARGUMENT, /pageSize/);
      await rejects(c.call("HostService", "DrainHost", { hostId: "host-x" }), status.NOT_FOUND, /no live session host/);
      // The server is still up and answering.
      assert.ok((await c.call<{ tenants: unknown[] }>("TenantService", "ListTenants", { pageSize: 1 })).tenants.length === 1);
    });
  });
}
