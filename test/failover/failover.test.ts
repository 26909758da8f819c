import { describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { eventually } from "../support/eventually.ts";
import { assertNoStaleAfter, connect, failoverCluster, ownerOf, requestOn, runTurn, startOn, text, threadEvents, threadWithHistory, type Json } from "./support.ts";

/**
 * Liveness, not performance: a turn the other host takes over (after a lease of 3 s) that has not ended
 * by then never will. How long takeovers take is measured by `npm run bench:failover`.
 */
const TURN_END_DEADLINE_MS = 60_000;

describe("failover: one router, two session hosts, NATS, PostgreSQL", () => {
  const f = failoverCluster();
  const { clients } = f;

  /** The thread's owner process and one other live host. */
  async function owner(threadId: string) {
    const entry = await ownerOf(f.cluster, threadId);
    const other = f.cluster.registry.live().find((h) => h.hostId !== entry.hostId && !h.draining);
    assert.ok(other, "another live host");
    return { entry, victim: f.cluster.host(entry.hostId), survivor: other.hostId };
  }

  test("SIGKILL of the owner: the next command is served by the other host, epoch+1, history intact", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    f.sim.script(threadId, [{ output: [{ type: "message", text: "The number is 7." }] }, { output: [{ type: "message", text: "It was 7." }] }]);
    await runTurn(c, threadId, "pick a number");
    const { entry, victim, survivor } = await owner(threadId);

    await victim.proc.kill();
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("what was it?") });

    const done = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
    assert.equal(done.params.turn.status, "completed");
    assert.equal(done.params.turn.items[0].text, "It was 7.");
    const now = await ownerOf(f.cluster, threadId);
    assert.deepEqual({ hostId: now.hostId, epoch: now.epoch }, { hostId: survivor, epoch: entry.epoch + 1 });
    assert.ok(threadEvents(c, threadId, from).every((f) => f.epoch === entry.epoch + 1), "the new owner stamps its epoch");
    const input = JSON.stringify(f.sim.requests(threadId)[1]!.input);
    for (const part of ["pick a number", "The number is 7.", "what was it?"]) assert.ok(input.includes(part), `history keeps ${part}`);

    await f.cluster.addHost();
  });

  test("SIGKILL mid-stream: with no client command, a live host adopts the thread and continues the turn with a new model request", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    f.sim.script(threadId, [
      { output: [{ type: "message", text: ["cut ", "off ", "here"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "after the crash" }] },
      { output: [{ type: "message", text: "and on" }] },
    ]);
    const { entry, victim, survivor } = await owner(threadId);
    const from = c.frames.length;
    const outputSchema = { type: "object", properties: { story: { type: "string" } }, required: ["story"] };
    const { turn } = await c.call("turn/start", { threadId, input: text("a long story"), outputSchema });
    await c.waitFor((f) => f.method === "item/agentMessage/delta", { from });
    // Writes follow events; a read on the owner waits for them, so the turn's input is stored.
    await c.call("thread/read", { threadId });
    await victim.proc.kill();

    const ended = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from, timeoutMs: TURN_END_DEADLINE_MS });
    assert.equal(ended.params.turn.status, "completed", "the turn runs on at its last safe point: its input");
    assert.equal(ended.params.turn.items.at(-1).text, "after the crash");
    assert.equal(ended.epoch, entry.epoch + 1, "finished by the adopting host");
    const now = await ownerOf(f.cluster, threadId);
    assert.deepEqual({ hostId: now.hostId, epoch: now.epoch }, { hostId: survivor, epoch: entry.epoch + 1 });
    const requests = f.sim.requests(threadId).map((r) => JSON.stringify(r.input));
    assert.equal(requests.length, 2, "the new owner re-issued the model request once");
    assert.ok(requests[1]!.includes("a long story") && !requests[1]!.includes("turn_aborted"), "with the turn's input, not as an aborted turn");
    assert.deepEqual(f.sim.requests(threadId).map((r) => (r as Json).text?.format?.schema), [outputSchema, outputSchema], "and the turn's output schema");
    const events = threadEvents(c, threadId, from);
    const turnStarts = events.filter((f) => f.method === "turn/started");
    assert.equal(turnStarts.length, 1, "clients saw the turn start once");
    assert.ok(events.some((f) => f.method === "thread/status/changed" && f.params.status.type === "active" && f.epoch === entry.epoch + 1), "the adopter shows the thread active");
    const read = await c.call("thread/read", { threadId, includeTurns: true });
    const stored = read.thread.turns.find((t: { id: string }) => t.id === turn.id);
    assert.equal(stored.status, "completed");
    assert.ok(stored.items.some((i: { type: string; text?: string }) => i.type === "agentMessage" && i.text === "after the crash"));
    const next = await runTurn(c, threadId, "go on");
    assert.equal(next.params.turn.items[0].text, "and on");

    await f.cluster.addHost();
  });

  test("SIGKILL before a turn's start reaches the store: the window shows it running, and a live host adopts and continues it", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    f.sim.script(threadId, [
      { output: [{ type: "message", text: "listed" }] },
      { output: [{ type: "message", text: ["held ", "back"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "after the crash" }] },
    ]);
    const { entry, victim, survivor } = await owner(threadId);
    // A thread's first turn is stored before its reply; later ones are not waited for.
    await runTurn(c, threadId, "first");
    await c.call("thread/read", { threadId });
    // Writes to the turns table wait while the owner starts and streams the turn (its events do not).
    const db = new pg.Client({ connectionString: f.cluster.databaseUrl });
    await db.connect();
    const from = c.frames.length;
    let turnId: string;
    try {
      await db.query("BEGIN");
      await db.query("LOCK TABLE turns IN EXCLUSIVE MODE");
      turnId = (await c.call("turn/start", { threadId, input: text("a story") })).turn.id as string;
      await c.waitFor((f) => f.method === "item/agentMessage/delta", { from });
      const waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()";
      await eventually(async () => (await db.query(waiting)).rowCount! > 0, "the owner's turn write waits on the lock");
      await victim.proc.kill();
      // The dead host's statement would still run once the lock goes: end it, as if it had never been sent.
      await db.query(`SELECT pg_terminate_backend(pid) FROM (${waiting}) w`);
    } finally {
      await db.query("ROLLBACK").catch(() => undefined);
    }
    try {
      const stored = await db.query("SELECT count(*)::int AS n FROM turns WHERE id = $1", [turnId]);
      assert.equal(stored.rows[0].n, 0, "the store never heard of the turn");
    } finally {
      await db.end();
    }

    const ended = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from, timeoutMs: TURN_END_DEADLINE_MS });
    assert.equal(ended.params.turn.status, "completed");
    assert.equal(ended.params.turn.items.at(-1).text, "after the crash");
    assert.equal(ended.epoch, entry.epoch + 1, "finished by the adopting host");
    assert.equal((await ownerOf(f.cluster, threadId)).hostId, survivor);
    const read = await c.call("thread/read", { threadId, includeTurns: true });
    const turn = read.thread.turns.find((t: { id: string }) => t.id === turnId);
    assert.equal(turn.status, "completed", "the adopter stored the turn");
    assert.ok(turn.items.some((i: { type: string }) => i.type === "userMessage"), "with the input its clients saw");

    await f.cluster.addHost();
  });

  test("a fork on another host right after a turn completes waits for the owner's writes and copies the turn", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    f.sim.script(threadId, [{ output: [{ type: "message", text: "first" }] }, { output: [{ type: "message", text: "second" }] }]);
    await runTurn(c, threadId, "one");
    const { survivor: other } = await owner(threadId);
    const db = new pg.Client({ connectionString: f.cluster.databaseUrl });
    await db.connect();
    try {
      // The owner's writes for the next turn wait; its events (turn/completed included) do not.
      await db.query("BEGIN");
      await db.query("LOCK TABLE turns IN EXCLUSIVE MODE");
      const done = await runTurn(c, threadId, "two");
      const lastTurnId = done.params.turn.id as string;
      const fork = requestOn(f.cluster, other, "thread/fork", { threadId, lastTurnId });
      const early = await Promise.race([fork.then(() => "answered"), new Promise((r) => setTimeout(r, 500, "waiting"))]);
      assert.equal(early, "waiting", "the fork waits while the owner's writes cannot land");
      await db.query("ROLLBACK");
      const reply = await fork;
      assert.ok(reply.ok, JSON.stringify(reply));
      const forked = (reply as { result: Json }).result.thread;
      assert.deepEqual(forked.turns.map((t: Json) => t.status), ["completed", "completed"]);
      assert.equal(forked.turns[1].items.at(-1).text, "second");
    } finally {
      await db.query("ROLLBACK").catch(() => undefined);
      await db.end();
    }
  });

  test("SIGKILL while a command runs: the adopter ends the turn interrupted, saying the session host was lost", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "danger-full-access" })).thread.id as string;
    f.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-cut", arguments: { command: ["bash", "-lc", "sleep 30"] } }] },
      { output: [{ type: "message", text: "after the crash" }] },
    ]);
    const { entry, victim } = await owner(threadId);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("run something long") });
    await c.waitFor((f) => f.method === "item/started" && f.params.item.type === "commandExecution", { from });
    await victim.proc.kill();

    const ended = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from, timeoutMs: TURN_END_DEADLINE_MS });
    assert.equal(ended.params.turn.status, "interrupted", "a command may have run halfway: the turn does not go on");
    assert.match(ended.params.turn.error.message, /session host running this turn was lost/);
    assert.equal(ended.epoch, entry.epoch + 1, "announced by the adopting host");
    const next = await runTurn(c, threadId, "go on");
    assert.equal(next.params.turn.items[0].text, "after the crash");
    assert.match(JSON.stringify(f.sim.requests(threadId)[1]!.input), /run something long[\s\S]*turn_aborted/);

    await f.cluster.addHost();
  });

  test("SIGSTOP past the lease: the other host serves the next turn; resumed, the paused host never reaches the model", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "danger-full-access" })).thread.id as string;
    f.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-slow", arguments: { command: ["bash", "-lc", "sleep 1; echo slow-done"] } }] },
      { output: [{ type: "message", text: "served by the new owner" }] },
      { output: [{ type: "message", text: "still the new owner" }] },
    ]);
    const { entry, victim, survivor } = await owner(threadId);
    const from = c.frames.length;
    const first = await c.call("turn/start", { threadId, input: text("run the slow command") });
    await c.waitFor((f) => f.method === "item/started" && f.params.item.type === "commandExecution", { from });
    victim.proc.child.kill("SIGSTOP");
    try {
      // The command finishes while its host is paused; the host must not send its output to the model.
      await eventually(() => !f.cluster.registry.isAlive(victim.id), "the paused host's lease lapses", 10_000);
      const second = await runTurn(c, threadId, "are you there?");
      assert.equal(second.params.turn.status, "completed");
      assert.equal(second.params.turn.items[0].text, "served by the new owner");
      const abandoned = c.frames.slice(from).find((f) => f.method === "turn/completed" && f.params.turn.id === first.turn.id);
      assert.equal(abandoned?.params.turn.status, "interrupted", "the adopter ends the abandoned turn for its clients");
    } finally {
      victim.proc.child.kill("SIGCONT");
    }
    const resumedAt = Date.now();
    await eventually(() => {
      const h = f.cluster.registry.get(victim.id);
      return h !== undefined && h.at > resumedAt && h.loadedThreads === 0;
    }, "the resumed host heartbeats again, holding nothing", 10_000);
    // A turn after the paused host came back: anything it still sent would have reached the model by now.
    const third = await runTurn(c, threadId, "one more");
    assert.equal(third.params.turn.items[0].text, "still the new owner");

    const requests = f.sim.requests(threadId).map((r) => JSON.stringify(r.input));
    assert.equal(requests.length, 3, "one request of the paused host, two of the new owner");
    assert.ok(requests.every((r) => !r.includes("slow-done")), "the paused host's command output never reached the model");
    assert.ok(requests[1]!.includes("are you there?") && requests[2]!.includes("one more"));
    const now = await ownerOf(f.cluster, threadId);
    assert.deepEqual({ hostId: now.hostId, epoch: now.epoch }, { hostId: survivor, epoch: entry.epoch + 1 });
    assertNoStaleAfter(threadEvents(c, threadId, from), entry.epoch + 1);
    const read = await c.call("thread/read", { threadId, includeTurns: true });
    assert.equal(read.thread.turns[0].status, "interrupted");
    assert.ok(!JSON.stringify(read.thread.turns[0]).includes("slow-done"), "the paused host's late writes were fenced off");
  });

  test("SIGTERM: the host finishes its turn, releases its threads, and the other host adopts them", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = await threadWithHistory(c, {}, "first");
    f.sim.script(threadId, [
      { output: [{ type: "message", text: ["draining ", "lets ", "this ", "turn ", "finish"] }], chunkDelayMs: 150 },
      { output: [{ type: "message", text: "adopted" }] },
    ]);
    const { entry, victim, survivor } = await owner(threadId);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("a slow answer") });
    await c.waitFor((f) => f.method === "item/agentMessage/delta", { from });
    victim.proc.child.kill("SIGTERM");
    const done = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
    assert.equal(done.params.turn.status, "completed", "the drain let the running turn finish");
    await victim.proc.exited;
    const released = await ownerOf(f.cluster, threadId);
    assert.deepEqual({ hostId: released.hostId, released: released.released }, { hostId: victim.id, released: true });

    const next = await runTurn(c, threadId, "still there?");
    assert.equal(next.params.turn.items[0].text, "adopted");
    const now = await ownerOf(f.cluster, threadId);
    assert.deepEqual({ hostId: now.hostId, epoch: now.epoch, released: now.released }, { hostId: survivor, epoch: entry.epoch + 1, released: false });
    assert.ok(!threadEvents(c, threadId, from).some((f) => f.method === "thread/closed"), "clients keep their subscription");
    assert.ok(JSON.stringify(f.sim.requests(threadId).at(-1)!.input).includes("a slow answer"));

    await f.cluster.addHost();
  });

  test("thread/loaded/list lists the threads loaded on every live host, page by page", async () => {
    const live = f.cluster.registry.live().filter((h) => !h.draining);
    assert.ok(live.length >= 2, "two live hosts");
    const ids: string[] = [];
    for (const h of live) {
      const reply = await startOn(f.cluster, h.hostId);
      assert.ok(reply.ok);
      ids.push((reply.result as Json).thread.id as string);
    }
    const c = await connect(f.cluster, clients);
    const all = await c.call("thread/loaded/list", {});
    for (const id of ids) assert.ok(all.data.includes(id), `${id} is listed`);
    assert.deepEqual(all.data, [...all.data].sort());
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await c.call("thread/loaded/list", { limit: 1, cursor });
      assert.ok(page.data.length <= 1);
      paged.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(paged, all.data);
  });

  test("every server message of this suite validates against the official Codex schema", () => {
    assert.deepEqual(clients.flatMap((c) => c.schemaViolations), []);
  });
});

describe("failover: capacity", () => {
  // The full host's heartbeat is slow: the router still sees room there and tries it first.
  const f = failoverCluster({
    extraEnv: { THREADMESH_LEASE_TTL_MS: "30000" },
    hosts: [
      { THREADMESH_MAX_THREADS: "1", THREADMESH_HEARTBEAT_INTERVAL_MS: "10000" },
      { THREADMESH_MAX_THREADS: "2", THREADMESH_HEARTBEAT_INTERVAL_MS: "200" },
    ],
  });
  const { clients } = f;

  test("a full host refuses and the router places on another; with every host full the client gets -32001 and retryAfterMs", async () => {
    const small = f.cluster.registry.live().find((h) => h.capacity === 1)!;
    const large = f.cluster.registry.live().find((h) => h.capacity === 2)!;
    assert.ok((await startOn(f.cluster, large.hostId)).ok);
    await eventually(() => f.cluster.registry.get(large.hostId)!.loadedThreads === 1, "the large host reports its thread");
    assert.ok((await startOn(f.cluster, small.hostId)).ok, "the small host is now full, its heartbeat says empty");

    const c = await connect(f.cluster, clients);
    const placed = (await c.call("thread/start", {})).thread.id as string;
    assert.equal((await ownerOf(f.cluster, placed)).hostId, large.hostId, "refused by the full host, placed on the other");

    const refused = await c.request("thread/start", {});
    assert.equal(refused.error.code, -32001);
    assert.equal(refused.error.data.reason, "noHostCapacity");
    assert.equal(typeof refused.error.data.retryAfterMs, "number");
    assert.ok(refused.error.data.retryAfterMs > 0);
    assert.deepEqual(clients.flatMap((x) => x.schemaViolations), []);
  });
});
