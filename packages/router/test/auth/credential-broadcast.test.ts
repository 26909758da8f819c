import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { publishCredentialEvent } from "@threadmesh/mesh";
import { NatsBus } from "@threadmesh/mesh/nats";
import { openTenantStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { CREDENTIAL_WITHDRAWN_CLOSE_CODE } from "@threadmesh/router";
import { startNatsServer, type NatsServer } from "../../../../test/support/nats-server.ts";
import { createTestDatabase, type TestDatabase } from "../../../../test/support/postgres.ts";
import { startTenancyRouter, upgrade, type TenancyRouter } from "./tenancy-harness.ts";

/** Liveness deadline of a withdrawal on every router (the bound), in ms. */
const WITHDRAWAL_DEADLINE_MS = 2_000;

/** Resolves with the close, or rejects once `ms` passed without one. */
function closedWithin(closed: Promise<{ code: number; reason: string }>, ms: number, what: string): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} still open ${ms} ms after the event`)), ms)));
  return Promise.race([closed, deadline]).finally(() => clearTimeout(timer));
}

describe("credential events across routers on one nats-server and one PostgreSQL", () => {
  let nats: NatsServer | null;
  let pg: TestDatabase | null;
  let store: KyselyTenantStore;
  const buses: NatsBus[] = [];
  const routers: TenancyRouter[] = [];

  before(async () => {
    nats = await startNatsServer();
    pg = await createTestDatabase();
    if (!nats || !pg) return;
    store = await openTenantStore({ url: pg.url });
    await store.createTenant({ id: "acme", name: "Acme" });
    for (const id of ["router-a", "router-b"]) {
      const bus = await NatsBus.connect({ servers: [nats.url], name: id });
      buses.push(bus);
      // Credentials cached for an hour: only the broadcast can withdraw them in time.
      routers.push(await startTenancyRouter({ store, bus, routerId: id, config: { credentialCacheMs: 3_600_000 } }));
    }
  });
  after(async () => {
    for (const r of routers) await r.close();
    for (const b of buses) await b.close();
    await store?.close();
    await pg?.drop();
    await nats?.stop();
  });

  test("a revoked key's live connections are closed on every router within 2 s, and refused there after", async (t) => {
    if (!nats || !pg) return t.skip("nats-server or PostgreSQL unavailable");
    const { key, secret } = await store.createApiKey({ tenantId: "acme", name: "shared" });
    const kept = await store.createApiKey({ tenantId: "acme", name: "kept" });
    const onA = await routers[0]!.connect(secret);
    const onB = await routers[1]!.connect(secret);
    const keptOnB = await routers[1]!.connect(kept.secret);

    await store.revokeApiKey("acme", key.id);
    // The admin layer's publisher, on a third connection to the server.
    const admin = await NatsBus.connect({ servers: [nats.url], name: "admin" });
    try {
      await publishCredentialEvent(admin, { kind: "keyRevoked", tenant: "acme", keyId: key.id });
    } finally {
      await admin.close();
    }
    for (const [c, where] of [[onA, "router-a"], [onB, "router-b"]] as const) {
      assert.deepEqual(await closedWithin(c.closed, WITHDRAWAL_DEADLINE_MS, `connection on ${where}`), {
        code: CREDENTIAL_WITHDRAWN_CLOSE_CODE,
        reason: "API key revoked",
      });
    }
    for (const r of routers) assert.equal((await upgrade(r.port, `Bearer ${secret}`)).json?.reason, "revoked");
    assert.equal((await keptOnB.request("thread/list", {})).id !== undefined, true, "another key's connection stays open");
    assert.equal(keptOnB.ws.readyState, keptOnB.ws.OPEN);
  });

  test("a suspension closes the tenant's connections on every router within 2 s", async (t) => {
    if (!nats || !pg) return t.skip("nats-server or PostgreSQL unavailable");
    await store.createTenant({ id: "gone", name: "Gone" });
    const { secret } = await store.createApiKey({ tenantId: "gone", name: "k" });
    const onA = await routers[0]!.connect(secret);
    const onB = await routers[1]!.connect(secret);
    await store.suspendTenant("gone");
    await publishCredentialEvent(buses[0]!, { kind: "tenantSuspended", tenant: "gone" });
    for (const c of [onA, onB]) {
      assert.deepEqual(await closedWithin(c.closed, WITHDRAWAL_DEADLINE_MS, "connection"), { code: CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason: "tenant suspended" });
    }
    for (const r of routers) assert.equal((await upgrade(r.port, `Bearer ${secret}`)).json?.reason, "suspended_tenant");
  });
});
