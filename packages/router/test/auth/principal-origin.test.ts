import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SignJWT, type JWTPayload } from "jose";
import { sqliteTenantStore, startTenancyRouter, type TenancyRouter } from "./tenancy-harness.ts";

const SECRET = "0123456789abcdef0123456789abcdef-hs256";

function jwt(claims: JWTPayload): Promise<string> {
  return new SignJWT({ tenant: "acme", ...claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime(Math.floor(Date.now() / 1000) + 300).sign(new TextEncoder().encode(SECRET));
}

describe("the user and the admin flag every command carries", () => {
  let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
  let r: TenancyRouter;

  before(async () => {
    db = await sqliteTenantStore();
    await db.store.createTenant({ id: "acme", name: "Acme" });
    r = await startTenancyRouter({ store: db.store, config: { authFailuresPerMinute: 1_000, jwt: { secret: SECRET, clockSkewSeconds: 0 } } });
  });
  after(async () => {
    await r.close();
    await db.dispose();
  });

  /** The origin of a command sent by a connection authenticated with `token`. */
  const originOf = async (token: string, marker: string) => {
    const c = await r.connect(token);
    const listed = c.request("thread/list", { searchTerm: marker });
    const cmd = await r.host!.waitFor((x) => x.env.method === "thread/list" && (x.env.params as { searchTerm?: string }).searchTerm === marker);
    await listed;
    const { user, admin } = cmd.env.origin;
    return { user, admin };
  };

  test("a JWT's subject is the user; its admin scope makes it an administrator", async () => {
    assert.deepEqual(await originOf(await jwt({ sub: "alice" }), "jwt-user"), { user: "alice", admin: false });
    assert.deepEqual(await originOf(await jwt({ sub: "root", scope: "read admin" }), "jwt-admin"), { user: "root", admin: true });
  });

  test("an API key's owner is the user; a key without an owner and the operator token administer the tenant", async () => {
    const owned = await db.store.createApiKey({ tenantId: "acme", name: "bob", userId: "bob" });
    assert.deepEqual(await originOf(owned.secret, "key-user"), { user: "bob", admin: false });
    const scoped = await db.store.createApiKey({ tenantId: "acme", name: "ops", userId: "ops", scopes: ["admin"] });
    assert.deepEqual(await originOf(scoped.secret, "key-admin"), { user: "ops", admin: true });
    const tenantWide = await db.store.createApiKey({ tenantId: "acme", name: "ci" });
    assert.deepEqual(await originOf(tenantWide.secret, "key-tenant"), { user: undefined, admin: true });
    assert.deepEqual(await originOf("operator-token", "operator"), { user: undefined, admin: true });
  });
});
