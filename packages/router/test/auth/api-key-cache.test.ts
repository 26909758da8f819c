import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { KyselyTenantStore } from "@threadmesh/persistence";
import { ApiKeyVerifier } from "../../src/auth/api-key-verifier.ts";
import { sqliteTenantStore } from "./tenancy-harness.ts";

let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
let store: KyselyTenantStore;
before(async () => {
  db = await sqliteTenantStore();
  store = db.store;
  await store.createTenant({ id: "acme", name: "Acme" });
});
after(() => db.dispose());

/** The real store, counting lookups. */
function counting(): { lookups: () => number; lookup: ConstructorParameters<typeof ApiKeyVerifier>[0]["store"] } {
  let n = 0;
  return {
    lookups: () => n,
    lookup: {
      findApiKeyBySecret: (s) => {
        n++;
        return store.findApiKeyBySecret(s);
      },
      touchApiKey: (t, k) => store.touchApiKey(t, k),
    },
  };
}

test("a reconnect storm on one key costs one lookup; the answer is reused until the cache time passes", async () => {
  const { secret } = await store.createApiKey({ tenantId: "acme", name: "storm" });
  let clock = 1_000;
  const c = counting();
  const v = new ApiKeyVerifier({ store: c.lookup, cacheMs: 10_000, now: () => clock });
  const results = await Promise.all(Array.from({ length: 50 }, () => v.verify(secret)));
  assert.ok(results.every((r) => r.ok && r.principal.tenant === "acme" && r.principal.method === "apiKey"));
  assert.equal(c.lookups(), 1);
  clock += 9_999;
  await v.verify(secret);
  assert.equal(c.lookups(), 1);
  clock += 1;
  await v.verify(secret);
  assert.equal(c.lookups(), 2);
});

test("forgetting a key or a tenant makes the next attempt ask the store", async () => {
  const { key, secret } = await store.createApiKey({ tenantId: "acme", name: "forget" });
  const c = counting();
  const v = new ApiKeyVerifier({ store: c.lookup, cacheMs: 3_600_000 });
  await v.verify(secret);
  await store.revokeApiKey("acme", key.id);
  assert.equal((await v.verify(secret)).ok, true, "cached until told");
  v.forgetKey(key.id);
  assert.deepEqual(await v.verify(secret), { ok: false, reason: "revoked", message: `API key ${key.prefix}… was revoked` });
  v.forgetTenant("acme");
  await v.verify(secret);
  assert.equal(c.lookups(), 3);
});

test("a store failure is 'unavailable' and not cached", async () => {
  const { secret } = await store.createApiKey({ tenantId: "acme", name: "down" });
  let down = true;
  const v = new ApiKeyVerifier({
    store: {
      findApiKeyBySecret: (s) => (down ? Promise.reject(new Error("connection refused")) : store.findApiKeyBySecret(s)),
      touchApiKey: () => {},
    },
    cacheMs: 3_600_000,
  });
  const r = await v.verify(secret);
  assert.equal(!r.ok && r.reason, "unavailable");
  down = false;
  assert.equal((await v.verify(secret)).ok, true);
});
