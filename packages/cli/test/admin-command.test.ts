import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startNatsServer, type NatsServer } from "../../../test/support/nats-server.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { runThreadmesh, ThreadmeshProcess } from "../../../test/support/processes.ts";
import { TestClient } from "../../../test/support/ws-client.ts";
import { eventually } from "../../../test/support/eventually.ts";

/** The bound on withdrawing a credential from live connections, ms. */
const WITHDRAWAL_DEADLINE_MS = 2_000;
/** Close code of a connection whose credential was withdrawn. */
const CREDENTIAL_WITHDRAWN = 1008;

function closedWithin(c: TestClient, ms: number): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`connection still open ${ms} ms after the revocation`)), ms)));
  return Promise.race([c.waitClose(), deadline]).finally(() => clearTimeout(timer));
}

/** `threadmesh admin …` against `env`'s admin server; the answer parsed when `--json` is among the arguments. */
async function admin(env: Record<string, string>, ...args: string[]) {
  const r = await runThreadmesh(["admin", ...args], env);
  return { ...r, json: args.includes("--json") && r.code === 0 ? (JSON.parse(r.stdout) as Record<string, any>) : null };
}

describe("threadmesh dev serves the admin API; threadmesh admin drives it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-admin-cli-"));
  const dbFile = join(dir, "threadmesh.db");
  let dev: ThreadmeshProcess;
  let wsUrl: string;
  let env: Record<string, string>;
  const clients: TestClient[] = [];

  before(async () => {
    dev = ThreadmeshProcess.spawn("dev", ["dev"], {
      DATABASE_URL: `sqlite:${dbFile}`,
      THREADMESH_PORT: "0",
      THREADMESH_METRICS_PORT: "0",
      THREADMESH_ADMIN_PORT: "0",
      THREADMESH_ADMIN_TOKEN: "",
      THREADMESH_WORKSPACE_ROOT: join(dir, "ws"),
    });
    wsUrl = (await dev.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    const banner = await dev.waitForLine(/admin API: 127\.0\.0\.1:(\d+) \(gRPC\), admin token: (\S+)/);
    env = { THREADMESH_ADMIN_PORT: banner[1]!, THREADMESH_ADMIN_TOKEN: banner[2]! };
  });
  after(async () => {
    for (const c of clients) await c.close();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a plan, a tenant, a key that opens a real connection, a grant and a top-up in the balance; revoking the key closes the connection", async () => {
    let r = await admin(env, "plans", "put", "partner", "--name", "Partner", "--plan-type", "business", "--primary-budget", "5", "--max-turns-per-tenant", "20");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /partner\s+Partner\s+business/);
    r = await admin(env, "tenants", "create", "acme", "--name", "Acme Inc", "--plan", "partner", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.json!.id, r.json!.plan, r.json!.status], ["acme", "partner", "active"]);
    const key = await admin(env, "keys", "create", "acme", "--name", "partner integration", "--json");
    assert.equal(key.code, 0, key.stderr);
    const secret = key.json!.secret as string;
    const live = await TestClient.initialized(wsUrl, { token: secret });
    clients.push(live);
    assert.ok(Array.isArray((await live.call("model/list", {})).data), "the key authenticates a working connection");

    r = await admin(env, "credits", "grant", "acme", "--amount", "2.5", "--expires", "30d", "--id", "welcome");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /granted: welcome/);
    r = await admin(env, "credits", "top-up", "acme", "--amount", "10", "--key", "order-1");
    assert.equal(r.code, 0, r.stderr);
    const balance = await admin(env, "credits", "balance", "acme", "--json");
    assert.deepEqual([balance.json!.balance, balance.json!.grantsRemaining], ["10000000", "2500000"]);
    r = await admin(env, "credits", "balance", "acme");
    assert.match(r.stdout, /balance 10 credits \(0 reserved\), grants 2\.5 credits left/);
    r = await admin(env, "reconcile");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ledgers agree/);

    r = await admin(env, "keys", "revoke", "acme", key.json!.key.id);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await closedWithin(live, WITHDRAWAL_DEADLINE_MS)).code, CREDENTIAL_WITHDRAWN);
  });

  test("a tenant refused for want of credits runs its turn once a top-up through the CLI lands", async () => {
    let r = await admin(env, "plans", "put", "payg", "--name", "Pay as you go", "--plan-type", "plus");
    assert.equal(r.code, 0, r.stderr);
    r = await admin(env, "tenants", "create", "payg", "--name", "Pay as you go", "--plan", "payg");
    assert.equal(r.code, 0, r.stderr);
    const key = await admin(env, "keys", "create", "payg", "--name", "k", "--json");
    const c = await TestClient.initialized(wsUrl, { token: key.json!.secret });
    clients.push(c);
    const { thread } = await c.call("thread/start", {});
    const refused = await c.request("turn/start", { threadId: thread.id, input: [{ type: "text", text: "hello" }] });
    assert.equal(refused.error?.code, -32001, JSON.stringify(refused));
    r = await admin(env, "credits", "top-up", "payg", "--amount", "5");
    assert.equal(r.code, 0, r.stderr);
    const from = c.frames.length;
    const admitted = await c.request("turn/start", { threadId: thread.id, input: [{ type: "text", text: "hello" }] });
    assert.equal(admitted.error, undefined, JSON.stringify(admitted.error));
    await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === admitted.result.turn.id, { from });
    const balance = await admin(env, "credits", "balance", "payg", "--json");
    assert.ok(Number(balance.json!.balance) < 5_000_000, "the turn was paid from the top-up");
    assert.equal((await admin(env, "reconcile", "--tenant", "payg")).code, 0);
  });

  test("reconcile exits 1 when the ledgers disagree", async () => {
    let r = await admin(env, "tenants", "create", "skewed", "--name", "Skewed");
    assert.equal(r.code, 0, r.stderr);
    r = await admin(env, "credits", "top-up", "skewed", "--amount", "3");
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await admin(env, "reconcile", "--tenant", "skewed")).code, 0);
    // A balance changed behind the ledger's back.
    const db = new Database(dbFile);
    try {
      db.prepare("UPDATE credit_balances SET balance = balance + 1 WHERE tenant_id = ?").run("skewed");
    } finally {
      db.close();
    }
    r = await admin(env, "reconcile");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /skewed: balance is 3000001 but its balance updates add up to 3000000/);
    assert.match(r.stdout, /LEDGERS DISAGREE/);
  });

  test("errors are one line: no token UNAUTHENTICATED, unknown ids NOT_FOUND, command-line mistakes exit 2", async () => {
    let r = await admin({ ...env, THREADMESH_ADMIN_TOKEN: "" }, "tenants", "list");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^threadmesh admin: UNAUTHENTICATED: [^\n]+\n$/);
    r = await admin(env, "tenants", "get", "nobody");
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'threadmesh admin: NOT_FOUND: no tenant "nobody"\n');
    r = await admin(env, "credits", "top-up", "acme", "--amount", "1.2345678");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^threadmesh admin: --amount: must be a number of credits with at most 6 decimals[^\n]*\n$/);
    r = await admin(env, "tenants", "frob");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tenants needs a verb: create, get, list, update, suspend, resume \(got "frob"\)/);
  });

  test("hosts list shows the dev process's session host; hosts drain makes it drain", async () => {
    const hosts = await admin(env, "hosts", "list", "--json");
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.equal(hosts.json!.hosts.length, 1);
    const hostId = hosts.json!.hosts[0].hostId as string;
    assert.equal(hosts.json!.hosts[0].draining, false);
    const r = await admin(env, "hosts", "drain", hostId, "--deadline-ms", "1000");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `host ${hostId} is draining\n`);
    // The host announces draining with its next heartbeat, at once.
    const after = await admin(env, "hosts", "list", "--json");
    assert.equal(after.json!.hosts[0].draining, true);
  });
});

describe("threadmesh admin-server in the distributed topology (nats-server, PostgreSQL, a router and a host process)", () => {
  let nats: NatsServer | null;
  let pg: TestDatabase | null;
  let adminServer: ThreadmeshProcess;
  let router: ThreadmeshProcess;
  let host: ThreadmeshProcess;
  const workspaces = mkdtempSync(join(tmpdir(), "tm-admin-ws-"));
  let env: Record<string, string>;
  let wsUrl: string;
  const clients: TestClient[] = [];
  const token = "distributed-admin-token-0123456789";

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    pg = await createTestDatabase();
    if (!nats || !pg) return;
    const base = { DATABASE_URL: pg.url, NATS_URL: nats.url };
    adminServer = ThreadmeshProcess.spawn("admin-server", ["admin-server"], { ...base, THREADMESH_ADMIN_PORT: "0", THREADMESH_ADMIN_TOKEN: token });
    const port = (await adminServer.waitForLine(/admin API on 127\.0\.0\.1:(\d+)/))[1]!;
    env = { THREADMESH_ADMIN_PORT: port, THREADMESH_ADMIN_TOKEN: token };
    router = ThreadmeshProcess.spawn("router", ["router"], { ...base, THREADMESH_PORT: "0", THREADMESH_METRICS_PORT: "0", THREADMESH_TOKEN: "" });
    // No turn runs here: the host's model endpoint is never called.
    host = ThreadmeshProcess.spawn("host", ["host"], { ...base, THREADMESH_METRICS_PORT: "0", THREADMESH_HOST_ID: "host-drained", OPENAI_BASE_URL: "http://127.0.0.1:9/v1", THREADMESH_WORKSPACE_ROOT: workspaces });
    wsUrl = (await router.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    await host.waitForLine(/session host host-drained ready/);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await host?.stop();
    await router?.stop();
    await adminServer?.stop();
    rmSync(workspaces, { recursive: true, force: true });
    await pg?.drop();
    await nats?.stop();
  });

  test("a key created with the CLI opens a connection on the router; revoking it with the CLI closes that connection within 2 s", async (t) => {
    if (!nats || !pg) return t.skip("nats-server or PostgreSQL unavailable");
    assert.equal((await admin(env, "tenants", "create", "acme", "--name", "Acme")).code, 0);
    const key = await admin(env, "keys", "create", "acme", "--name", "k", "--json");
    assert.equal(key.code, 0, key.stderr);
    const live = await TestClient.initialized(wsUrl, { token: key.json!.secret });
    clients.push(live);
    assert.ok(Array.isArray((await live.call("model/list", {})).data));
    const topUp = await admin(env, "credits", "top-up", "acme", "--amount", "7", "--json");
    assert.equal(topUp.json!.balance.balance, "7000000");
    const r = await admin(env, "keys", "revoke", "acme", key.json!.key.id);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await closedWithin(live, WITHDRAWAL_DEADLINE_MS)).code, CREDENTIAL_WITHDRAWN);
    assert.equal((await admin(env, "reconcile")).code, 0);
  });

  test("hosts list shows the host process from the registry; hosts drain reaches it over NATS and it announces draining", async (t) => {
    if (!nats || !pg) return t.skip("nats-server or PostgreSQL unavailable");
    const listed = await admin(env, "hosts", "list", "--json");
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.json!.hosts.map((h: { hostId: string; draining: boolean }) => [h.hostId, h.draining]), [["host-drained", false]]);
    const r = await admin(env, "hosts", "drain", "host-drained", "--deadline-ms", "500");
    assert.equal(r.code, 0, r.stderr);
    // The drained host's next heartbeat, written at once, reaches the admin server's watch of the KV bucket.
    const host = await eventually(async () => (await admin(env, "hosts", "list", "--json")).json!.hosts.find((h: { draining: boolean }) => h.draining), "the host listed as draining", 15_000);
    assert.equal(host.hostId, "host-drained");
  });

  test("admin-server refuses to start open: no token and no client CA is one line and exit 2", async (t) => {
    if (!nats || !pg) return t.skip("nats-server or PostgreSQL unavailable");
    const r = await runThreadmesh(["admin-server"], { DATABASE_URL: pg.url, NATS_URL: nats.url, THREADMESH_ADMIN_PORT: "0", THREADMESH_ADMIN_TOKEN: "" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^threadmesh admin-server: invalid configuration:\n  THREADMESH_ADMIN_TOKEN: required unless client certificates are/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });
});
