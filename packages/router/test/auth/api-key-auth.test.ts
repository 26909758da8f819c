import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { publishCredentialEvent } from "@threadmesh/mesh";
import type { KyselyTenantStore } from "@threadmesh/persistence";
import { CREDENTIAL_WITHDRAWN_CLOSE_CODE } from "@threadmesh/router";
import { sqliteTenantStore, startTenancyRouter, upgrade, type TenancyRouter } from "./tenancy-harness.ts";

describe("API keys at the upgrade", () => {
  let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
  let store: KyselyTenantStore;
  let r: TenancyRouter;

  before(async () => {
    db = await sqliteTenantStore();
    store = db.store;
    await store.createTenant({ id: "acme", name: "Acme" });
    // A long cache: only credential events can make a router forget a key in these tests.
    r = await startTenancyRouter({ store, config: { credentialCacheMs: 3_600_000, authFailuresPerMinute: 1_000 } });
  });
  after(async () => {
    await r.close();
    await db.dispose();
  });

  test("a key authenticates its tenant and its owner; the tenant reaches the host; its use is recorded", async () => {
    const { key, secret } = await store.createApiKey({ tenantId: "acme", name: "ci", userId: "alice", scopes: ["threads"] });
    const c = await r.connect(secret);
    const listed = c.request("thread/list", {});
    const cmd = await r.host!.waitForMethod("thread/list");
    assert.equal(cmd.env.tenant, "acme");
    await listed;
    await store.flushLastUsed();
    assert.notEqual((await store.getApiKey("acme", key.id))?.lastUsedAt, null);
  });

  test("every failure is a 401 with a JSON reason and a WWW-Authenticate challenge", async () => {
    const revoked = await store.createApiKey({ tenantId: "acme", name: "old" });
    await store.revokeApiKey("acme", revoked.key.id);
    await store.createTenant({ id: "paused", name: "Paused" });
    const paused = await store.createApiKey({ tenantId: "paused", name: "p" });
    await store.suspendTenant("paused");
    const unknown = `tm_live_00000000_${"A".repeat(43)}`;
    const cases: Array<[string | undefined, string, RegExp]> = [
      [undefined, "missing", /^Bearer realm="threadmesh"$/],
      ["Basic abc", "malformed", /error="invalid_token", error_description="invalid authorization header"/],
      ["Bearer", "malformed", /error="invalid_token", error_description="invalid authorization header"/],
      ["Bearer tm_live_short", "malformed", /error="invalid_token"/],
      [`Bearer ${unknown}`, "unknown_key", /error="invalid_token", error_description="unknown API key"/],
      [`Bearer ${revoked.secret}`, "revoked", /error="invalid_token"/],
      [`Bearer ${paused.secret}`, "suspended_tenant", /error_description="tenant paused is suspended"/],
      ["Bearer not-the-operator-token", "invalid", /error="invalid_token"/],
    ];
    for (const [authorization, reason, challenge] of cases) {
      const a = await upgrade(r.port, authorization);
      assert.equal(a.status, 401, `${authorization}: ${a.body}`);
      assert.equal(a.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(a.json?.error, "unauthorized");
      assert.equal(a.json?.reason, reason, authorization);
      assert.equal(typeof a.json?.message, "string");
      assert.match(String(a.headers["www-authenticate"]), challenge, authorization);
    }
  });

  test("the capability token still authenticates the default tenant", async () => {
    const c = await r.connect("operator-token");
    const listed = c.request("thread/list", {});
    const cmd = await r.host!.waitFor((x) => x.env.method === "thread/list" && x.env.tenant === "default");
    assert.equal(cmd.env.tenant, "default");
    await listed;
  });

  test("a revocation event closes the key's connections with 1008 and the key is refused at once, despite the cache", async () => {
    const { key, secret } = await store.createApiKey({ tenantId: "acme", name: "soon revoked" });
    const other = await store.createApiKey({ tenantId: "acme", name: "stays" });
    const a = await r.connect(secret);
    const b = await r.connect(other.secret);
    await store.revokeApiKey("acme", key.id);
    await publishCredentialEvent(r.bus, { kind: "keyRevoked", tenant: "acme", keyId: key.id });
    assert.deepEqual(await a.closed, { code: CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason: "API key revoked" });
    assert.equal((await upgrade(r.port, `Bearer ${secret}`)).json?.reason, "revoked");
    assert.equal((await b.request("thread/list", {})).error, undefined, "another key of the tenant keeps its connection");
  });

  test("a suspension closes every key connection of the tenant; resuming lets its keys in again", async () => {
    await store.createTenant({ id: "flaky", name: "Flaky" });
    const k1 = await store.createApiKey({ tenantId: "flaky", name: "one" });
    const k2 = await store.createApiKey({ tenantId: "flaky", name: "two" });
    const c1 = await r.connect(k1.secret);
    const c2 = await r.connect(k2.secret);
    const operator = await r.connect("operator-token");
    await store.suspendTenant("flaky");
    await publishCredentialEvent(r.bus, { kind: "tenantSuspended", tenant: "flaky" });
    assert.deepEqual(await c1.closed, { code: CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason: "tenant suspended" });
    assert.deepEqual(await c2.closed, { code: CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason: "tenant suspended" });
    assert.equal((await upgrade(r.port, `Bearer ${k1.secret}`)).json?.reason, "suspended_tenant");
    await store.resumeTenant("flaky");
    await publishCredentialEvent(r.bus, { kind: "tenantResumed", tenant: "flaky" });
    assert.equal((await upgrade(r.port, `Bearer ${k1.secret}`)).status, 101);
    assert.equal((await operator.request("thread/list", {})).error, undefined, "other tenants' connections stay");
  });

  test("a malformed credential event is dropped and the router keeps serving", async () => {
    r.bus.publish("tm.ctl.v1.credentials", new TextEncoder().encode('{"v":1,"kind":"keyRevoked","tenant":"a.b"}'));
    r.bus.publish("tm.ctl.v1.credentials", new TextEncoder().encode("not json"));
    await r.bus.flush();
    const { secret } = await store.createApiKey({ tenantId: "acme", name: "after" });
    assert.equal((await upgrade(r.port, `Bearer ${secret}`)).status, 101);
  });
});

describe("repeated failures from one address", () => {
  let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
  let r: TenancyRouter;

  before(async () => {
    db = await sqliteTenantStore();
    await db.store.createTenant({ id: "acme", name: "Acme" });
    r = await startTenancyRouter({ store: db.store, config: { authFailuresPerMinute: 3 } });
  });
  after(async () => {
    await r.close();
    await db.dispose();
  });

  test("after N failures in a minute the address gets 429 with Retry-After, even with a valid key", async () => {
    const { secret } = await db.store.createApiKey({ tenantId: "acme", name: "good" });
    assert.equal((await upgrade(r.port, `Bearer ${secret}`)).status, 101, "successes cost nothing");
    for (let i = 0; i < 3; i++) assert.equal((await upgrade(r.port, "Bearer wrong")).status, 401);
    for (const auth of ["Bearer wrong", `Bearer ${secret}`]) {
      const a = await upgrade(r.port, auth);
      assert.equal(a.status, 429);
      const retryAfter = Number(a.headers["retry-after"]);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, String(a.headers["retry-after"]));
      assert.equal(a.json?.error, "too_many_requests");
      assert.equal(a.json?.retryAfterSeconds, retryAfter);
    }
  });
});
