import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KvHostRegistry, KvOwnerLeases, NatsBus } from "@threadmesh/mesh/nats";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openStore, type ThreadStore } from "@threadmesh/persistence";
import { LimitReason, requestDeadline } from "@threadmesh/protocol";
import { startNatsServer, type NatsServer } from "../../../test/support/nats-server.ts";
import { OPERATOR_POLICY_CAPS, SessionHost } from "../src/index.ts";
import { LOOP_LAG_REASON, TURN_CAPACITY_REASON } from "../src/capacity/turn-capacity.ts";
import { DEFAULT_OVERLOAD_RETRY_AFTER_MS } from "../src/config.ts";
import { TENANT, startHarness, startThread, text } from "./host-harness.ts";
import { HostTestClient } from "./host-test-client.ts";

const TTL_MS = 1_000;
const HEARTBEAT_MS = 200;
const MAX_TURNS = 2;

/** Blocks the event loop, as a host flooded with work would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The store with its turn writes held while a hold is on, as a store whose queue is long under load
 * holds them: `reached` resolves once a held write waits.
 */
function heldTurnWrites(store: ThreadStore): { store: ThreadStore; hold(): { reached: Promise<void>; release(): void } } {
  let gate: Promise<void> = Promise.resolve();
  let onReached = (): void => {};
  const held = new Proxy(store, {
    get(target, prop) {
      if (prop === "putTurn") {
        return async (...args: Parameters<ThreadStore["putTurn"]>) => {
          onReached();
          await gate;
          return target.putTurn(...args);
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return {
    store: held,
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (onReached = resolve));
      return {
        reached,
        release: () => {
          onReached = () => {};
          gate = Promise.resolve();
          release();
        },
      };
    },
  };
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

/** A session host on NATS (its own server and KV buckets) with a SQLite store and a model simulator. */
interface OverloadFixture {
  server: NatsServer;
  sim: ModelSim;
  dir: string;
  store: ThreadStore;
  turnWrites: ReturnType<typeof heldTurnWrites>;
  bus: NatsBus;
  control: NatsBus;
  hosts: KvHostRegistry;
  owners: KvOwnerLeases;
  host: SessionHost;
  client: HostTestClient;
}

async function startOverloadHost(config: { maxTurns: number; turnLagBudgetMs: number }): Promise<OverloadFixture> {
  const server = await startNatsServer({ jetstream: true });
  assert.ok(server, "nats-server is installed");
  const sim = await startModelSim({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), "tm-host-overload-"));
  const store = await openStore({ url: `sqlite:${join(dir, "threadmesh.db")}` });
  const bus = await NatsBus.connect({ servers: server.url, name: "overload-host" });
  const control = await NatsBus.connect({ servers: server.url, name: "overload-control" });
  const suffix = randomBytes(4).toString("hex");
  const hosts = await KvHostRegistry.open(control.connection, { bucket: `tm_hosts_${suffix}`, leaseTtlMs: TTL_MS, servers: [server.url] });
  const owners = await KvOwnerLeases.open(control.connection, { bucket: `tm_owners_${suffix}` });
  const turnWrites = heldTurnWrites(store);
  const host = await SessionHost.create({
    bus,
    store: turnWrites.store,
    hosts,
    owners,
    hostId: "host-overload",
    model: { baseURL: `${sim.url}/v1`, apiKey: "sim", model: "sim-model", maxRetries: 0 },
    config: {
      workspaceRoot: join(dir, "workspaces"),
      policyCaps: OPERATOR_POLICY_CAPS,
      heartbeatIntervalMs: HEARTBEAT_MS,
      ...config,
    },
  });
  return { server, sim, dir, store, turnWrites, bus, control, hosts, owners, host, client: new HostTestClient(bus, TENANT) };
}

async function stopOverloadHost(f: OverloadFixture | undefined): Promise<void> {
  if (!f) return;
  f.client.close();
  await f.host.close();
  await Promise.all([f.hosts.close(), f.owners.close()]);
  await f.bus.close();
  await f.control.close();
  await f.store.close();
  await f.sim.close();
  await f.server.stop();
  rmSync(f.dir, { recursive: true, force: true });
}

describe("overloaded session host on NATS: -32001 at once, lease kept", () => {
  let f: OverloadFixture;
  let sim: ModelSim;
  let hosts: KvHostRegistry;
  let owners: KvOwnerLeases;
  let client: HostTestClient;
  let host: SessionHost;

  before(async () => {
    await warmUpSchemas();
    f = await startOverloadHost({ maxTurns: MAX_TURNS, turnLagBudgetMs: 250 });
    ({ sim, hosts, owners, client, host } = f);
  });

  after(() => stopOverloadHost(f));

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

describe("requests past their deadline on a session host on NATS: refused, never started", () => {
  let f: OverloadFixture;
  let sim: ModelSim;
  let store: ThreadStore;
  let hosts: KvHostRegistry;
  let owners: KvOwnerLeases;
  let client: HostTestClient;
  let turnWrites: OverloadFixture["turnWrites"];

  before(async () => {
    await warmUpSchemas();
    // Neither turn capacity nor event-loop lag refuses here: only the deadline does.
    f = await startOverloadHost({ maxTurns: 0, turnLagBudgetMs: 0 });
    ({ sim, store, hosts, owners, client, turnWrites } = f);
  });

  after(() => stopOverloadHost(f));

  /** Starts a thread whose next turn streams `WORDS` at once. */
  async function scriptedThread(): Promise<string> {
    const { threadId } = await startThread(client);
    sim.script(threadId, [{ output: [{ type: "message", text: WORDS }], chunkDelayMs: 0 }]);
    return threadId;
  }

  test("a turn/start its host reads only after its deadline is answered -32001 deadlineExceeded with retryAfterMs and starts no turn; the lease is kept", async () => {
    const threadId = await scriptedThread();
    const owner = await owners.read(TENANT, threadId);
    const from = client.frames.length;
    // Stamped as a router stamps it, then the host's loop is busy past it: the sender has given up when the host reads it.
    const late = client.error("turn/start", { threadId, input: text("late") }, {}, requestDeadline(200));
    stall(500);
    const refused = await late;
    assert.equal(refused.code, -32001, "refused, not timed out");
    assert.deepEqual(refused.data, { retryAfterMs: DEFAULT_OVERLOAD_RETRY_AFTER_MS, reason: LimitReason.DeadlineExceeded });
    assert.deepEqual(client.notifications(threadId, from), [], "nothing published for the refused request");
    assert.equal(sim.requests(threadId).length, 0, "no model request");
    assert.equal((await store.listTurns(TENANT, threadId, { limit: 10, sortDirection: "asc" })).data.length, 0, "no turn stored");
    // The same request within its deadline runs.
    const { turn } = await client.call("turn/start", { threadId, input: text("in time") }, {}, requestDeadline(5_000));
    assert.equal((await client.waitTurnCompleted(threadId, turn.id, from)).params.turn.status, "completed");
    assert.deepEqual(await owners.read(TENANT, threadId), owner, "no takeover: the owner entry never moved");
    assert.ok(hosts.isAlive("host-overload"));
  });

  test("turn/starts that reach their deadline behind a first turn's held store writes start nothing: the first is withdrawn, the queued one refused", async () => {
    const threadId = await scriptedThread();
    const owner = await owners.read(TENANT, threadId);
    const from = client.frames.length;
    const held = turnWrites.hold();
    let first: Promise<{ code: number; data?: unknown }>;
    let queued: Promise<{ code: number; data?: unknown }>;
    try {
      // The thread's first turn is stored before its reply: that write waits, and the next command waits behind it in the mailbox.
      first = client.error("turn/start", { threadId, input: text("first") }, {}, requestDeadline(300));
      await held.reached;
      queued = client.error("turn/start", { threadId, input: text("queued") }, {}, requestDeadline(300));
      // Both senders give up meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 400));
    } finally {
      held.release();
    }
    for (const refused of [await first, await queued]) {
      assert.equal(refused.code, -32001);
      assert.deepEqual(refused.data, { retryAfterMs: DEFAULT_OVERLOAD_RETRY_AFTER_MS, reason: LimitReason.DeadlineExceeded });
    }
    assert.deepEqual(
      client.notifications(threadId, from).filter((n) => n.method.startsWith("turn/") || n.method.startsWith("item/")),
      [],
      "no turn/started, no item of either request",
    );
    assert.equal(sim.requests(threadId).length, 0, "no model request");
    const stored = (await store.listTurns(TENANT, threadId, { limit: 10, sortDirection: "asc" })).data;
    assert.deepEqual(stored.map((t) => t.status), ["interrupted"], "the withdrawn first turn is stored as never run; the queued one left nothing");
    // The thread and the host's turn count are as before: a turn within its deadline runs to the end.
    const { turn } = await client.call("turn/start", { threadId, input: text("in time") }, {}, requestDeadline(5_000));
    assert.equal((await client.waitTurnCompleted(threadId, turn.id, from)).params.turn.status, "completed");
    assert.equal(sim.requests(threadId).length, 1);
    assert.deepEqual(await owners.read(TENANT, threadId), owner, "no takeover: the owner entry never moved");
    assert.ok(hosts.isAlive("host-overload"));
  });
});
