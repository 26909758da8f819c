import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import WebSocket from "ws";
import { ConsoleTickets } from "../src/console/tickets.ts";
import { ticketOf } from "../src/console/ticket-authenticator.ts";
import { httpGet, startRouter, tryUpgrade, type Harness } from "./harness.ts";

const TOKEN = "console-test-token-0123456789";

function post(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("console tickets", () => {
  test("a ticket is redeemed once, and not after it expired", async () => {
    let now = 1_000;
    const tickets = new ConsoleTickets({ ttlMs: 2_000, now: () => now });
    const principal = { tenant: "acme", method: "apiKey", user: "ann", keyId: "k1", scopes: ["threads:write"], priorityClass: 7 };
    const a = await tickets.issue(principal);
    assert.deepEqual(await tickets.redeem(a), principal);
    assert.equal(await tickets.redeem(a), undefined);
    const b = await tickets.issue(principal);
    now += 2_000;
    assert.equal(await tickets.redeem(b), undefined);
    assert.equal(await tickets.redeem("forged"), undefined);
    assert.equal(await tickets.redeem(`${a.slice(0, -2)}xx`), undefined, "a tampered signature is refused");
  });

  test("routers sharing a key redeem each other's tickets; a router with another key does not", async () => {
    const secret = "a-console-ticket-key-of-32-bytes!!";
    const [one, two, other] = [new ConsoleTickets({ secret }), new ConsoleTickets({ secret }), new ConsoleTickets({ secret: `${secret}-other` })];
    const principal = { tenant: "acme", method: "jwt", user: "bob" };
    const t = await one.issue(principal);
    assert.equal(await other.redeem(t), undefined);
    assert.deepEqual(await two.redeem(t), principal);
    assert.equal(await two.redeem(t), undefined);
    assert.throws(() => new ConsoleTickets({ secret: "short" }), /at least 32 bytes/);
  });

  test("the ticket is read from the offered subprotocols", () => {
    assert.equal(ticketOf({ "sec-websocket-protocol": "threadmesh.console, threadmesh.ticket.abc_1" }), "abc_1");
    assert.equal(ticketOf({ "sec-websocket-protocol": "threadmesh.console" }), undefined);
    assert.equal(ticketOf({}), undefined);
  });
});

describe("console routes", () => {
  let on: Harness;
  let off: Harness;
  before(async () => {
    [on, off] = await Promise.all([startRouter({ console: true, devMode: false, tokens: [{ token: TOKEN, tenant: "acme" }] }), startRouter({ devMode: false, tokens: [{ token: TOKEN }] })]);
  });
  after(async () => {
    await Promise.all([on.close(), off.close()]);
  });

  test("off by default: /console is not served", async () => {
    assert.equal((await httpGet(off.port, "/console")).status, 400);
    assert.equal((await post(off.port, "/console/ticket", { authorization: `Bearer ${TOKEN}` })).status, 400);
  });

  test("serves the page with a strict policy, and the bundle", async () => {
    const page = await httpGet(on.port, "/console");
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/console\/app.js">/);
    const js = await httpGet(on.port, "/console/app.js");
    assert.equal(js.status, 200);
    assert.equal(js.contentType, "text/javascript; charset=utf-8");
    assert.ok(js.body.length > 1000);
    assert.equal((await httpGet(on.port, "/console/app.css")).status, 200);
    assert.equal((await httpGet(on.port, "/console/nope")).status, 404);
    assert.equal((await httpGet(on.port, "/console", { origin: "https://evil.example" })).status, 403);
    assert.equal((await httpGet(on.port, "/console/ticket")).status, 405);
  });

  test("a ticket needs a valid bearer credential and opens one same-origin connection as its tenant", async () => {
    assert.equal((await post(on.port, "/console/ticket", {})).status, 401);
    assert.equal((await post(on.port, "/console/ticket", { authorization: "Bearer wrong" })).status, 401);
    const r = await post(on.port, "/console/ticket", { authorization: `Bearer ${TOKEN}` });
    assert.equal(r.status, 200);
    const { ticket, tenant } = JSON.parse(r.body) as { ticket: string; tenant: string };
    assert.equal(tenant, "acme");
    const origin = `http://127.0.0.1:${on.port}`;
    // A same-origin upgrade without a ticket is still refused by the Origin check.
    assert.equal((await tryUpgrade(on.port, { origin, host: `127.0.0.1:${on.port}` })).status, 403);
    const ws = new WebSocket(`ws://127.0.0.1:${on.port}/console/ws`, ["threadmesh.console", `threadmesh.ticket.${ticket}`], { origin });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    assert.equal(ws.protocol, "threadmesh.console");
    ws.close();
    const again = await tryUpgrade(on.port, { origin, host: `127.0.0.1:${on.port}`, "sec-websocket-protocol": `threadmesh.console, threadmesh.ticket.${ticket}` });
    assert.equal(again.status, 401);
    // A ticket offered from another origin is refused before it is looked at.
    const t2 = JSON.parse((await post(on.port, "/console/ticket", { authorization: `Bearer ${TOKEN}` })).body) as { ticket: string };
    assert.equal((await tryUpgrade(on.port, { origin: "https://evil.example", "sec-websocket-protocol": `threadmesh.ticket.${t2.ticket}` })).status, 403);
  });
});

describe("console tickets across routers", () => {
  const SECRET = "console-ticket-key-shared-by-routers-0123";
  let a: Harness;
  let b: Harness;
  let c: Harness;
  before(async () => {
    const config = { console: true, devMode: false, tokens: [{ token: TOKEN, tenant: "acme" }] };
    [a, b, c] = await Promise.all([
      startRouter({ ...config, consoleTicketSecret: SECRET }),
      startRouter({ ...config, consoleTicketSecret: SECRET }),
      startRouter(config),
    ]);
  });
  after(async () => {
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  const upgrade = (port: number, ticket: string) =>
    tryUpgrade(port, { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, "sec-websocket-protocol": `threadmesh.console, threadmesh.ticket.${ticket}` });

  test("a ticket issued by one router opens a connection on another with the same key, once", async () => {
    const r = await post(a.port, "/console/ticket", { authorization: `Bearer ${TOKEN}` });
    assert.equal(r.status, 200);
    const { ticket } = JSON.parse(r.body) as { ticket: string };
    assert.equal((await upgrade(c.port, ticket)).status, 401, "a router with its own key refuses it");
    const origin = `http://127.0.0.1:${b.port}`;
    const ws = new WebSocket(`ws://127.0.0.1:${b.port}/`, ["threadmesh.console", `threadmesh.ticket.${ticket}`], { origin });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const reply = new Promise<{ result?: { userAgent?: string } }>((resolve) => ws.once("message", (d) => resolve(JSON.parse(String(d)) as { result?: { userAgent?: string } })));
    ws.send(JSON.stringify({ id: 1, method: "initialize", params: { clientInfo: { name: "console", version: "1" } } }));
    assert.equal(typeof (await reply).result?.userAgent, "string");
    ws.close();
    assert.equal((await upgrade(b.port, ticket)).status, 401, "a used ticket is refused");
  });
});
