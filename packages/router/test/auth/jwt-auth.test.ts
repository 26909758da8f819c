import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { publishCredentialEvent } from "@threadmesh/mesh";
import { Router, RouterConfigError } from "@threadmesh/router";
import { InProcessBus } from "@threadmesh/mesh";
import { noopTelemetry } from "@threadmesh/telemetry";
import { sqliteTenantStore, startTenancyRouter, upgrade, type TenancyRouter } from "./tenancy-harness.ts";

const SECRET = "0123456789abcdef0123456789abcdef-hs256";
const ISSUER = "https://issuer.example";
const AUDIENCE = "threadmesh";
const now = (): number => Math.floor(Date.now() / 1000);

function hs256(claims: JWTPayload, opts: { secret?: string; iss?: string; aud?: string; exp?: number; nbf?: number } = {}): Promise<string> {
  const jwt = new SignJWT({ tenant: "acme", sub: "alice", ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setExpirationTime(opts.exp ?? now() + 300);
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

describe("JWT at the upgrade (HS256)", () => {
  let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
  let r: TenancyRouter;

  before(async () => {
    db = await sqliteTenantStore();
    await db.store.createTenant({ id: "acme", name: "Acme" });
    await db.store.createTenant({ id: "paused", name: "Paused" });
    await db.store.suspendTenant("paused");
    r = await startTenancyRouter({
      store: db.store,
      config: { authFailuresPerMinute: 1_000, credentialCacheMs: 3_600_000, jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 60 } },
    });
  });
  after(async () => {
    await r.close();
    await db.dispose();
  });

  test("a valid token authenticates the tenant of its tenant claim", async () => {
    const c = await r.connect(await hs256({}));
    const listed = c.request("thread/list", {});
    const cmd = await r.host!.waitFor((x) => x.env.method === "thread/list" && x.env.tenant === "acme");
    assert.equal(cmd.env.tenant, "acme");
    await listed;
  });

  test("expiry and not-before are checked with the configured skew", async () => {
    assert.equal((await upgrade(r.port, `Bearer ${await hs256({}, { exp: now() - 30 })}`)).status, 101, "expired within the skew");
    assert.equal((await upgrade(r.port, `Bearer ${await hs256({}, { nbf: now() + 30 })}`)).status, 101, "not yet valid within the skew");
  });

  test("every failure names its reason", async () => {
    const cases: Array<[string, string]> = [
      [await hs256({}, { exp: now() - 600 }), "expired"],
      [await hs256({}, { nbf: now() + 600 }), "not_yet_valid"],
      [await hs256({}, { iss: "https://other.example" }), "bad_issuer"],
      [await hs256({}, { aud: "someone-else" }), "bad_audience"],
      [await hs256({}, { secret: "another-secret-of-at-least-32-bytes!!" }), "bad_signature"],
      [await hs256({ tenant: undefined }), "bad_claims"],
      [await hs256({ tenant: "a.b" }), "bad_claims"],
      [await hs256({ tenant: "nobody" }), "unknown_tenant"],
      [await hs256({ tenant: "paused" }), "suspended_tenant"],
      ["bm90IGpzb24.bm90IGpzb24.c2ln", "malformed"],
      [
        await new SignJWT({ tenant: "acme" }).setProtectedHeader({ alg: "HS512" }).setExpirationTime(now() + 60).sign(new TextEncoder().encode(SECRET + SECRET)),
        "bad_algorithm",
      ],
    ];
    for (const [token, reason] of cases) {
      const a = await upgrade(r.port, `Bearer ${token}`);
      assert.equal(a.status, 401, reason);
      assert.equal(a.json?.reason, reason, `${reason}: ${a.body}`);
      assert.match(String(a.headers["www-authenticate"]), /^Bearer realm="threadmesh", error="invalid_token", error_description="[^"]+"$/);
    }
  });

  test("a suspended tenant's JWT connections close and its tokens are refused at once", async () => {
    await db.store.createTenant({ id: "later", name: "Later" });
    const token = await hs256({ tenant: "later" });
    const c = await r.connect(token);
    await db.store.suspendTenant("later");
    await publishCredentialEvent(r.bus, { kind: "tenantSuspended", tenant: "later" });
    assert.deepEqual(await c.closed, { code: 1008, reason: "tenant suspended" });
    assert.equal((await upgrade(r.port, `Bearer ${token}`)).json?.reason, "suspended_tenant");
  });
});

describe("JWT configuration", () => {
  test("an HS256 secret under 32 bytes is refused at start-up with one clear problem", async () => {
    await assert.rejects(
      Router.create({ bus: new InProcessBus(), telemetry: noopTelemetry(), routerId: "r", config: { jwt: { secret: "x".repeat(31) } } }),
      (err: unknown) => {
        assert.ok(err instanceof RouterConfigError);
        assert.deepEqual(err.problems, ["jwt.secret must be at least 32 bytes (got 31)"]);
        return true;
      },
    );
  });

  test("a JWT config without a secret or a JWKS URL, or with a bad URL, is refused", async () => {
    for (const [jwt, problem] of [
      [{}, "jwt needs a secret or a jwksUrl"],
      [{ jwksUrl: "ftp://keys" }, 'jwt.jwksUrl must be an http(s) URL (got "ftp://keys")'],
    ] as const) {
      await assert.rejects(Router.create({ bus: new InProcessBus(), telemetry: noopTelemetry(), routerId: "r", config: { jwt } }), (err: unknown) => {
        assert.ok(err instanceof RouterConfigError);
        assert.deepEqual(err.problems, [problem]);
        return true;
      });
    }
  });
});

describe("JWT at the upgrade (RS256 / ES256 through a JWKS URL)", () => {
  let db: Awaited<ReturnType<typeof sqliteTenantStore>>;
  let r: TenancyRouter;
  let server: Server;
  let served: JWK[] = [];
  let fetches = 0;

  const keyPair = async (alg: "RS256" | "ES256", kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK; alg: string; kid: string }> => {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }, alg, kid };
  };
  const sign = (k: { privateKey: CryptoKey; alg: string; kid: string }, claims: JWTPayload = {}): Promise<string> =>
    new SignJWT({ tenant: "acme", sub: "bob", ...claims }).setProtectedHeader({ alg: k.alg, kid: k.kid }).setExpirationTime(now() + 300).sign(k.privateKey);

  before(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    db = await sqliteTenantStore();
    await db.store.createTenant({ id: "acme", name: "Acme" });
    r = await startTenancyRouter({
      store: db.store,
      config: {
        authFailuresPerMinute: 1_000,
        // No cooldown: a token naming a key the cached set lacks refetches the set at once.
        jwt: { jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, jwksCooldownMs: 0 },
      },
    });
  });
  after(async () => {
    await r.close();
    await db.dispose();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("RS256 and ES256 tokens verify against the served keys, fetched once for both", async () => {
    const rsa = await keyPair("RS256", "rsa-1");
    const ec = await keyPair("ES256", "ec-1");
    served = [rsa.jwk, ec.jwk];
    const before = fetches;
    assert.equal((await upgrade(r.port, `Bearer ${await sign(rsa)}`)).status, 101);
    assert.equal((await upgrade(r.port, `Bearer ${await sign(ec)}`)).status, 101);
    assert.equal(fetches - before, 1);
  });

  test("a rotated key is picked up: a token naming the new key refetches the set", async () => {
    const next = await keyPair("ES256", "ec-2");
    const stranger = await keyPair("ES256", "ec-2");
    assert.equal((await upgrade(r.port, `Bearer ${await sign(next)}`)).json?.reason, "unknown_key", "not served yet");
    served = [...served, next.jwk];
    assert.equal((await upgrade(r.port, `Bearer ${await sign(next)}`)).status, 101, "served after rotation");
    assert.equal((await upgrade(r.port, `Bearer ${await sign(stranger)}`)).json?.reason, "bad_signature", "same kid, another key");
  });

  test("an HS256 token is refused when only a JWKS is configured", async () => {
    assert.equal((await upgrade(r.port, `Bearer ${await hs256({})}`)).json?.reason, "bad_algorithm");
  });
});
