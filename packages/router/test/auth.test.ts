import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { AuthMessage, CapabilityTokenAuthenticator, isLoopback } from "@threadmesh/router";
import { startRouter, tryUpgrade, TestClient, type Harness } from "./harness.ts";

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

describe("CapabilityTokenAuthenticator", () => {
  const auth = new CapabilityTokenAuthenticator({
    tokens: [
      { sha256: digest("alpha-token"), tenant: "alpha" },
      { sha256: digest("beta-token"), tenant: "beta" },
    ],
  });
  const check = (authorization: string | undefined, remoteAddress = "10.1.2.3") =>
    auth.authenticate({ headers: authorization === undefined ? {} : { authorization }, remoteAddress });

  test("a missing header is 'missing websocket bearer token'", async () => {
    assert.deepEqual(await check(undefined), { ok: false, message: AuthMessage.Missing });
  });

  test("a wrong token is 'invalid websocket bearer token'", async () => {
    assert.deepEqual(await check("Bearer wrong"), { ok: false, message: AuthMessage.Invalid });
  });

  test("another scheme, an empty token or a bare scheme is 'invalid authorization header'", async () => {
    for (const h of ["Basic abc", "Bearer", "Bearer    ", "Bearertoken", "Bearer a\u0001b"]) {
      assert.deepEqual(await check(h), { ok: false, message: AuthMessage.BadHeader }, h);
    }
  });

  test("the scheme is case-insensitive, the token trimmed, and the token picks the tenant", async () => {
    assert.deepEqual(await check("bearer   beta-token  "), { ok: true, principal: { tenant: "beta", method: "capabilityToken" } });
    assert.deepEqual(await check("BEARER alpha-token"), { ok: true, principal: { tenant: "alpha", method: "capabilityToken" } });
  });

  test("dev mode accepts a request without a header only from loopback, and still rejects wrong tokens", async () => {
    const dev = new CapabilityTokenAuthenticator({ tokens: [], loopbackTenant: "default" });
    assert.equal((await dev.authenticate({ headers: {}, remoteAddress: "127.0.0.1" })).ok, true);
    assert.equal((await dev.authenticate({ headers: {}, remoteAddress: "::ffff:127.0.0.1" })).ok, true);
    assert.equal((await dev.authenticate({ headers: {}, remoteAddress: "::1" })).ok, true);
    assert.deepEqual(await dev.authenticate({ headers: {}, remoteAddress: "192.168.1.2" }), { ok: false, message: AuthMessage.Missing });
    assert.deepEqual(await dev.authenticate({ headers: { authorization: "Bearer nope" }, remoteAddress: "127.0.0.1" }), {
      ok: false,
      message: AuthMessage.Invalid,
    });
  });

  test("loopback detection", () => {
    assert.equal(isLoopback("127.8.9.10"), true);
    assert.equal(isLoopback("::1"), true);
    assert.equal(isLoopback("::ffff:10.0.0.1"), false);
    assert.equal(isLoopback(undefined), false);
  });
});

describe("authentication at the upgrade", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({
      devMode: false,
      tokens: [{ token: "s3cret" }, { sha256: digest("tenant-b-token").toString("hex"), tenant: "tenant_b" }],
      allowedOrigins: ["https://app.example"],
    });
  });
  after(() => h.close());

  test("401 bodies are plain text and name the problem", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "missing websocket bearer token"],
      [{ Authorization: "Bearer wrong" }, "invalid websocket bearer token"],
      [{ Authorization: "Basic abc" }, "invalid authorization header"],
    ];
    for (const [headers, body] of cases) {
      const r = await tryUpgrade(h.port, headers);
      assert.equal(r.status, 401);
      assert.equal(r.body, body);
      assert.equal(r.contentType, "text/plain; charset=utf-8");
    }
  });

  test("a valid token is accepted on any path, and its tenant scopes the commands", async () => {
    const a = await TestClient.connect(`${h.url}/some/path`, { Authorization: "bearer  s3cret " });
    await a.initialize();
    await a.request("thread/list", {});
    const b = await TestClient.connect(h.url, { Authorization: "Bearer tenant-b-token" });
    await b.initialize();
    await b.request("thread/list", {});
    const subjects = h.host.commands.filter((c) => c.env.method === "thread/list").map((c) => [c.env.tenant, c.subject]);
    assert.deepEqual(subjects, [
      ["default", "tm.v1.default.place"],
      ["tenant_b", "tm.v1.tenant_b.place"],
    ]);
    await a.close();
    await b.close();
  });

  test("without dev mode a loopback client still needs a token", async () => {
    const r = await tryUpgrade(h.port, {});
    assert.equal(r.status, 401);
  });

  test("an Origin header is refused with 403 unless allowed, even with a valid token", async () => {
    const r = await tryUpgrade(h.port, { Authorization: "Bearer s3cret", Origin: "https://evil.example" });
    assert.equal(r.status, 403);
    const ok = await TestClient.connect(h.url, { Authorization: "Bearer s3cret", Origin: "https://app.example" });
    await ok.close();
  });
});

describe("dev mode at the upgrade", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({ devMode: true, tokens: [{ token: "t0k" }] });
  });
  after(() => h.close());

  test("a loopback client without Authorization is accepted as the default tenant", async () => {
    const c = await h.client();
    await c.request("thread/list", {});
    const cmd = await h.host.waitForMethod("thread/list");
    assert.equal(cmd.env.tenant, "default");
  });

  test("a wrong token is still 401", async () => {
    const r = await tryUpgrade(h.port, { Authorization: "Bearer nope" });
    assert.equal(r.status, 401);
    assert.equal(r.body, "invalid websocket bearer token");
  });
});
