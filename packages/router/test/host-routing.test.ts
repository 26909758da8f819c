import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus, MemoryHostRegistry, MemoryOwnerLeases, type HostLoad } from "@threadmesh/mesh";
import {
  ENVELOPE_VERSION,
  OverloadedError,
  PlacementRefusal,
  decodeEnvelope,
  encodeEnvelope,
  hostWildcard,
  placementRefusal,
  threadCommandSubject,
  type CommandEnvelope,
  type ReplyEnvelope,
} from "@threadmesh/protocol";
import { noopTelemetry } from "@threadmesh/telemetry";
import { pickHost } from "../src/host-picker.ts";
import { HostRouting } from "../src/host-routing.ts";

const TENANT = "acme";
const TTL_MS = 300;

function load(hostId: string, patch: Partial<HostLoad> = {}): HostLoad {
  return { hostId, loadedThreads: 0, activeTurns: 0, capacity: 10, eventLoopLagMs: 0, draining: false, at: Date.now(), ...patch };
}

function envelope(method: string, params: unknown = {}): CommandEnvelope {
  return { v: ENVELOPE_VERSION, tenant: TENANT, method, params, origin: { routerId: "r", connId: "c", experimentalApi: false, clientName: "t", clientVersion: "1" } };
}

/** A fake host on its own subject: answers with its id, or refuses placements when full. */
function fakeHost(bus: InProcessBus, hostId: string, seen: string[], opts: { full?: boolean } = {}): void {
  bus.subscribe(hostWildcard(hostId), (msg) => {
    const env = decodeEnvelope<CommandEnvelope>(msg.data);
    seen.push(`${hostId}:${env.method}`);
    const reply: ReplyEnvelope = opts.full
      ? { v: ENVELOPE_VERSION, ok: false, error: placementRefusal(PlacementRefusal.AtCapacity, 77).toShape() }
      : { v: ENVELOPE_VERSION, ok: true, result: { hostId } };
    msg.respond(encodeEnvelope(reply));
  });
}

/** A request timeout far beyond the test's own: an answer that came only at the timeout fails the test. */
const NEVER_MS = 3_600_000;
/** Per test, for tests whose answer must not wait for the request timeout. */
const TEST_TIMEOUT_MS = 30_000;

function setup(opts: { timeoutMs?: number } = {}) {
  const bus = new InProcessBus();
  const hosts = new MemoryHostRegistry({ leaseTtlMs: TTL_MS });
  const owners = new MemoryOwnerLeases();
  const routing = new HostRouting(bus, { hosts, owners }, { logger: noopTelemetry().logger, timeoutMs: opts.timeoutMs ?? 2_000 });
  const send = async (env: CommandEnvelope, target: Parameters<HostRouting["send"]>[2]) => {
    const msg = await routing.send(env, encodeEnvelope(env), target, undefined);
    return decodeEnvelope<ReplyEnvelope>(msg.data);
  };
  return { bus, hosts, owners, send };
}

describe("host routing", () => {
  test("power of two choices takes the emptier of two hosts", () => {
    const a = load("a", { loadedThreads: 9 });
    const b = load("b", { loadedThreads: 1 });
    assert.equal(pickHost([a, b])?.hostId, "b");
    assert.equal(pickHost([a])?.hostId, "a");
    assert.equal(pickHost([]), undefined);
    const big = load("big", { loadedThreads: 50, capacity: 1000 });
    assert.equal(pickHost([a, big])?.hostId, "big", "load is relative to capacity");
  });

  test("a placement refused for capacity goes to another host; all refusing is -32001 with retryAfterMs", async () => {
    const { bus, hosts, send } = setup();
    const seen: string[] = [];
    fakeHost(bus, "full", seen, { full: true });
    fakeHost(bus, "open", seen);
    // The full host looks emptier, so it is asked first.
    await hosts.heartbeat(load("full", { loadedThreads: 0 }));
    await hosts.heartbeat(load("open", { loadedThreads: 5 }));
    const reply = await send(envelope("thread/start"), { route: "place" });
    assert.deepEqual(reply.ok && reply.result, { hostId: "open" });
    assert.deepEqual(seen, ["full:thread/start", "open:thread/start"]);

    const { bus: bus2, hosts: hosts2, send: send2 } = setup();
    fakeHost(bus2, "x", [], { full: true });
    fakeHost(bus2, "y", [], { full: true });
    await hosts2.heartbeat(load("x"));
    await hosts2.heartbeat(load("y"));
    await assert.rejects(send2(envelope("thread/start"), { route: "place" }), (err: unknown) => {
      assert.ok(err instanceof OverloadedError);
      assert.deepEqual(err.data, { retryAfterMs: 77, reason: "noHostCapacity" });
      return true;
    });
  });

  test("a burst of placements between heartbeats spreads over the hosts, counting the router's own placements", async () => {
    const { bus, hosts, send } = setup();
    const seen: string[] = [];
    fakeHost(bus, "a", seen);
    fakeHost(bus, "b", seen);
    // Both report the same load; no heartbeat arrives during the burst.
    await hosts.heartbeat(load("a"));
    await hosts.heartbeat(load("b"));
    for (let i = 0; i < 10; i++) await send(envelope("thread/start"), { route: "place" });
    const onA = seen.filter((x) => x.startsWith("a:")).length;
    assert.equal(onA, 5, `placed ${onA} of 10 on a`);
  });

  test("draining hosts take no placements; without any live host the queue group is used", async () => {
    const { bus, hosts, send } = setup();
    const seen: string[] = [];
    fakeHost(bus, "leaving", seen);
    bus.subscribe(`tm.v1.${TENANT}.place`, (msg) => msg.respond(encodeEnvelope({ v: ENVELOPE_VERSION, ok: true, result: { hostId: "queue" } })), { queue: "q" });
    const viaQueue = await send(envelope("thread/start"), { route: "place" });
    assert.deepEqual(viaQueue.ok && viaQueue.result, { hostId: "queue" });
    await hosts.heartbeat(load("leaving", { draining: true }));
    await assert.rejects(send(envelope("thread/start"), { route: "place" }), OverloadedError);
    assert.deepEqual(seen, []);
  });

  test("a thread whose owner lapsed or released it goes to a live host to adopt it", async () => {
    const { bus, hosts, owners, send } = setup();
    const seen: string[] = [];
    fakeHost(bus, "alive", seen);
    await hosts.heartbeat(load("alive"));
    await hosts.heartbeat(load("dead", { at: Date.now() - TTL_MS - 1 }));
    await owners.create(TENANT, "t1", { hostId: "dead", epoch: 3, released: false });
    await owners.create(TENANT, "t2", { hostId: "alive", epoch: 1, released: true });
    await new Promise((r) => setImmediate(r));
    const a = await send(envelope("turn/start", { threadId: "t1" }), { route: "thread", threadId: "t1" });
    const b = await send(envelope("thread/read", { threadId: "t2" }), { route: "thread", threadId: "t2" });
    assert.ok(a.ok && b.ok);
    assert.deepEqual(seen, ["alive:turn/start", "alive:thread/read"]);
    await assert.rejects(
      send(envelope("mesh/connection/closed", { threadId: "t1" }), { route: "thread", threadId: "t1", fallback: false }),
      (err: unknown) => (err as { kind?: string }).kind === "noResponders",
      "notices for a dead owner are not worth an adoption",
    );
  });

  /**
   * A thread owned by `owner`, whose lease is left to run out, and a live host "heir" that keeps beating;
   * `turnStart` sends a turn/start to the thread (the heir stops beating once it is answered).
   */
  async function ownerLeftToLapse(t: TestContext, owner: string, threadId: string, epoch: number) {
    const { bus, hosts, owners, send } = setup({ timeoutMs: NEVER_MS });
    // Closing the bus ends the request the owner never answered, and its hour-long timer with it.
    t.after(() => bus.close());
    fakeHost(bus, "heir", []);
    await hosts.heartbeat(load("heir"));
    const beating = setInterval(() => void hosts.heartbeat(load("heir")), TTL_MS / 5);
    t.after(() => clearInterval(beating));
    await hosts.heartbeat(load(owner));
    await owners.create(TENANT, threadId, { hostId: owner, epoch, released: false });
    await new Promise((r) => setImmediate(r));
    const turnStart = () => send(envelope("turn/start", { threadId }), { route: "thread", threadId }).finally(() => clearInterval(beating));
    return { bus, hosts, turnStart };
  }

  test("an owner that vanished is waited out until its lease ends, then the thread is adopted", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { hosts, turnStart } = await ownerLeftToLapse(t, "gone", "t3", 1);
    const reply = await turnStart();
    assert.deepEqual(reply.ok && reply.result, { hostId: "heir" });
    assert.ok(Date.now() >= hosts.expiresAt("gone"), "not before the lease ended");
  });

  test("a command the owner swallowed (it died or paused) is adopted when the owner's lease ends, not at the timeout", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { bus, hosts, turnStart } = await ownerLeftToLapse(t, "silent", "t5", 2);
    bus.subscribe(threadCommandSubject(TENANT, "t5"), () => {});
    const reply = await turnStart();
    assert.deepEqual(reply.ok && reply.result, { hostId: "heir" });
    assert.ok(Date.now() >= hosts.expiresAt("silent"), "not before the lease ended");
  });

  test("a live owner is reached on the thread's subject", async () => {
    const { bus, hosts, owners, send } = setup();
    await hosts.heartbeat(load("owner"));
    await owners.create(TENANT, "t4", { hostId: "owner", epoch: 1, released: false });
    bus.subscribe(threadCommandSubject(TENANT, "t4"), (msg) => msg.respond(encodeEnvelope({ v: ENVELOPE_VERSION, ok: true, result: { via: "thread" } })));
    const reply = await send(envelope("thread/read", { threadId: "t4" }), { route: "thread", threadId: "t4" });
    assert.deepEqual(reply.ok && reply.result, { via: "thread" });
  });
});
