import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KvHostRegistry, KvOwnerLeases, NatsBus } from "@threadmesh/mesh/nats";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openStore, type ThreadStore } from "@threadmesh/persistence";
import { startNatsServer, type NatsServer } from "../../../test/support/nats-server.ts";
import { OPERATOR_POLICY_CAPS, SessionHost } from "../src/index.ts";
import { LOOP_LAG_REASON, TURN_CAPACITY_REASON } from "../src/capacity/turn-capacity.ts";
import { TENANT, startHarness, startThread, text } from "./host-harness.ts";
import { HostTestClient } from "./host-test-client.ts";

const TTL_MS = 1_000;
const HEARTBEAT_MS = 200;
const MAX_TURNS = 2;

/** Blocks the event loop, as a host flooded with work would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const WORDS = Array.from({ length: 12 }, (_, i) => `w${i} `);

/**
 * The test client checks every frame against the Codex schema, compiled on first use of each message
 * kind: seconds of this process's event loop, which here would stall the host under test beyond its
 * lease. The same exchange on an in-process host compiles them first.
 */
async function warmUpSchemas(): Promise<void> {
  const h = await startHarness({ config: { maxTurns: 1, turnLagBudgetMs: 0 } });
  try {
    const a = await startThread(h.client);
    const b = await startThread(h.client);
    h.sim.script(a.threadId, [{ output: [{ type: "message", text: WORDS }], chunkDelayMs: 20 }]);
    const { turn } = await h.client.call("turn/start", { threadId: a.threadId, input: text("warm") });
    assert.equal((await h.client.error("turn/start", { threadId: b.threadId, input: text("refused") })).code, -32001);
    await h.client.waitTurnCompleted(a.threadId, turn.id);
  } finally {
    await h.close();
  }
}

describe("overloaded session host on NATS: -32001 at once, lease kept", () => {
  let server: NatsServer;
  let sim: ModelSim;
  let dir: string;
  let store: ThreadStore;
  let bus: NatsBus;
  let control: NatsBus;
  let hosts: KvHostRegistry;
  let owners: KvOwnerLeases;
  let host: SessionHost;
  let client: HostTestClient;

  before(async () => {
    await warmUpSchemas();
    const s = await startNatsServer({ jetstream: true });
    assert.ok(s, "nats-server is installed");
    server = s;
    sim = await startModelSim({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), "tm-host-overload-"));
    store = await openStore({ url: `sqlite:${join(dir, "threadmesh.db")}` });
    bus = await NatsBus.connect({ servers: server.url, name: "overload-host" });
    control = await NatsBus.connect({ servers: server.url, name: "overload-control" });
    const suffix = randomBytes(4).toString("hex");
    hosts = await KvHostRegistry.open(control.connection, { bucket: `tm_hosts_${suffix}`, leaseTtlMs: TTL_MS, servers: [server.url] });
    owners = await KvOwnerLeases.open(control.connection, { bucket: `tm_owners_${suffix}` });
    host = await SessionHost.create({
      bus,
      store,
      hosts,
      owners,
      hostId: "host-overload",
      model: { baseURL: `${sim.url}/v1`, apiKey: "sim", model: "sim-model", maxRetries: 0 },
      config: {
        workspaceRoot: join(dir, "workspaces"),
        policyCaps: OPERATOR_POLICY_CAPS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        maxTurns: MAX_TURNS,
        turnLagBudgetMs: 250,
      },
    });
    client = new HostTestClient(bus, TENANT);
  });

  after(async () => {
    client?.close();
    await host?.close();
    await Promise.all([hosts?.close(), owners?.close()]);
    await bus?.close();
    await control?.close();
    await store?.close();
    await sim?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a thread whose next turn streams `WORDS` one delta every `delayMs`. */
  async function slowThread(delayMs: number): Promise<string> {
    const { threadId } = await startThread(client);
    sim.script(threadId, [{ output: [{ type: "message", text: WORDS }], chunkDelayMs: delayMs }]);
    return threadId;
  }

  test("beyond its turn capacity a host answers turn/start with -32001 and retryAfterMs, and serves it once a turn ended", async () => {
    const busy = [await slowThread(100), await slowThread(100)];
    const extra = await slowThread(0);
    const from = client.frames.length;
    const turns = await Promise.all(busy.map((threadId) => client.call("turn/start", { threadId, input: text("go") })));
    const refused = await client.error("turn/start", { threadId: extra, input: text("one too many") });
    assert.equal(refused.code, -32001);
    assert.deepEqual(refused.data, { retryAfterMs: HEARTBEAT_MS, reason: TURN_CAPACITY_REASON });
    // The refusal changed nothing: the running turns complete, then the same request is served.
    for (const [i, threadId] of busy.entries()) {
      const done = await client.waitTurnCompleted(threadId, turns[i].turn.id, from);
      assert.equal(done.params.turn.status, "completed");
    }
    const served = await client.call("turn/start", { threadId: extra, input: text("now") });
    const done = await client.waitTurnCompleted(extra, served.turn.id, from);
    assert.equal(done.params.turn.status, "completed");
  });

  test("a loop stalled longer than the lease, then late timer after timer, keeps its lease and its turn; new turns are refused at once meanwhile", async () => {
    const threadId = await slowThread(250);
    const other = await slowThread(0);
    const owner = await owners.read(TENANT, threadId);
    assert.equal(owner?.hostId, "host-overload");
    const from = client.frames.length;
    const { turn } = await client.call("turn/start", { threadId, input: text("stream") });
    await client.waitForMethod("item/agentMessage/delta", threadId, from);
    // One stall longer than the lease: before, the heartbeat (written from this loop) lapsed and the host dropped its threads.
    stall(TTL_MS * 1.3);
    // Then sustained overload: the loop runs 50 ms of every 400.
    const overload = setInterval(() => stall(350), 400);
    let refused: { code: number; data?: unknown };
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      refused = await client.error("turn/start", { threadId: other, input: text("while lagging") });
    } finally {
      clearInterval(overload);
    }
    assert.equal(refused.code, -32001, "refused at once, not timed out");
    const data = refused.data as { reason: string; retryAfterMs: number };
    assert.equal(data.reason, LOOP_LAG_REASON);
    assert.ok(data.retryAfterMs >= HEARTBEAT_MS, `retryAfterMs ${data.retryAfterMs} grows with the lag`);
    const done = await client.waitTurnCompleted(threadId, turn.id, from);
    assert.equal(done.params.turn.status, "completed", "the turn was not ended by a lost lease");
    const deltas = client.notifications(threadId, from).filter((n) => n.method === "item/agentMessage/delta");
    assert.equal(deltas.map((n) => n.params.delta).join(""), WORDS.join(""), "every delta delivered, in order");
    assert.deepEqual(await owners.read(TENANT, threadId), owner, "no takeover: the owner entry never moved");
    assert.ok(hosts.isAlive("host-overload"));
    assert.ok(host.loadedThreads >= 2, "the host still holds its threads");
  });
});
