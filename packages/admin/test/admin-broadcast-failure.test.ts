import { test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus } from "@threadmesh/mesh";
import { AdminCallError } from "../src/index.ts";
import { startAdmin, testDatabase } from "./admin-harness.ts";

test("a revocation the bus cannot broadcast is stored all the same and answered UNAVAILABLE saying so", async () => {
  const db = (await testDatabase("sqlite"))!;
  const bus = new InProcessBus();
  const admin = await startAdmin({ url: db.url, bus });
  try {
    await admin.client.call("TenantService", "CreateTenant", { id: "acme", name: "Acme" });
    const { key } = await admin.client.call<{ key: { id: string } }>("ApiKeyService", "CreateApiKey", { tenantId: "acme", name: "k" });
    await bus.close();
    const err = await admin.client.call("ApiKeyService", "RevokeApiKey", { tenantId: "acme", keyId: key.id }).then(
      () => assert.fail("answered OK without telling the routers"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AdminCallError);
    assert.equal(err.codeName, "UNAVAILABLE");
    assert.match(err.message, /is stored, but the routers could not be told over the bus .* repeat the call to retry/);
    assert.notEqual((await admin.stores.tenants.getApiKey("acme", key.id))?.revokedAt ?? null, null, "the key is revoked in the store");
    // The server keeps answering.
    assert.equal((await admin.client.call<{ id: string }>("TenantService", "GetTenant", { id: "acme" })).id, "acme");
  } finally {
    await admin.close();
    await db.drop();
  }
});
