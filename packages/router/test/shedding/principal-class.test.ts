import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { DEFAULT_PRIORITY_CLASS, type KyselyTenantStore } from "@threadmesh/persistence";
import { ApiKeyVerifier } from "../../src/auth/api-key-verifier.ts";
import { CapabilityTokenAuthenticator } from "../../src/auth/capability-token-authenticator.ts";
import { JwtVerifier } from "../../src/auth/jwt-verifier.ts";
import { TenantStatusCache } from "../../src/auth/tenant-status-cache.ts";
import { sqliteTenantStore } from "../auth/tenancy-harness.ts";

const SECRET = "a-shared-secret-of-at-least-32-bytes!";

let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
let store: KyselyTenantStore;
before(async () => {
  db = await sqliteTenantStore();
  store = db.store;
  await store.createTenant({ id: "gold", name: "Gold", priorityClass: 8 });
  await store.createTenant({ id: "plain", name: "Plain" });
});
after(() => db.dispose());

test("the principal carries its tenant's priority class: from the key's tenant, from the tenant a JWT names, the default for the operator token", async () => {
  const keys = new ApiKeyVerifier({ store, cacheMs: 0 });
  const { secret: gold } = await store.createApiKey({ tenantId: "gold", name: "k" });
  const { secret: plain } = await store.createApiKey({ tenantId: "plain", name: "k" });
  const byKey = async (s: string) => {
    const r = await keys.verify(s);
    assert.ok(r.ok);
    return r.principal.priorityClass;
  };
  assert.equal(await byKey(gold), 8);
  assert.equal(await byKey(plain), DEFAULT_PRIORITY_CLASS);

  const jwt = new JwtVerifier({ secret: SECRET, clockSkewSeconds: 0, tenantClaim: "tenant", userClaim: "sub", jwksCooldownMs: 0, jwksMaxAgeMs: 0, tenants: new TenantStatusCache(store, 0) });
  const token = await new SignJWT({ tenant: "gold" }).setProtectedHeader({ alg: "HS256" }).setSubject("ann").setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
  const r = await jwt.verify(token);
  assert.ok(r.ok);
  assert.equal(r.principal.priorityClass, 8);

  const operator = new CapabilityTokenAuthenticator({ tokens: [], loopbackTenant: "plain" });
  const o = await operator.authenticate({ headers: {}, remoteAddress: "127.0.0.1" });
  assert.ok(o.ok);
  assert.equal(o.principal.priorityClass, undefined, "the operator's connections take the default class");
});
