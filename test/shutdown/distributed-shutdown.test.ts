import { describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { eventually } from "../support/eventually.ts";
import type { TestClient } from "../support/ws-client.ts";
import { connect, failoverCluster, ownerOf, text, type Json } from "../failover/support.ts";
import { DRAIN_DEADLINE_MS, STOP_MARGIN_MS, processesWith, slowAnswer, terminate } from "./shutdown-load.ts";

const STREAMING_TURNS = 10;
const SLEEP_MARKER = "sleep 100.4242";

/** Runs one turn with a scripted answer to completion. */
async function threadTurn(c: TestClient, threadId: string): Promise<void> {
  const from = c.frames.length;
  const { turn } = await c.call("turn/start", { threadId, input: text("hello") });
  await c.waitFor((fr) => fr.method === "turn/completed" && fr.params.turn.id === turn.id, { from });
}

describe("shutdown under load: router + session hosts on NATS and PostgreSQL", () => {
  const f = failoverCluster({ hosts: 1, extraEnv: { THREADMESH_DRAIN_DEADLINE_MS: String(DRAIN_DEADLINE_MS) } });

  test("SIGTERM ends each process within the drain deadline + 2 s; the running turns go on or end interrupted on the other host", async (t) => {
    const { cluster, sim, clients } = f;
    const victim = cluster.hosts[0]!;
    type Running = { c: TestClient; threadId: string; turnId: string; from: number; epoch: number };
    const start = async (params: Json, script: Json[], started: (f: Json) => boolean): Promise<Running> => {
      const c = await connect(cluster, clients);
      const threadId = (await c.call("thread/start", params)).thread.id as string;
      sim.script(threadId, script as never);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: text("a long answer") });
      await c.waitFor((fr) => started(fr) && fr.params?.threadId === threadId, { from });
      return { c, threadId, turnId: turn.id as string, from, epoch: (await ownerOf(cluster, threadId)).epoch };
    };
    const delta = (fr: Json) => fr.method === "item/agentMessage/delta";
    const continued = { output: [{ type: "message", text: "continued on the other host" }] };
    // Streaming turns (one client per thread), a model stream that hangs, and a shell command that runs for 100 s.
    // Long enough (40 s) to be still streaming when SIGTERM comes after the set-up below, however slow the machine.
    const streaming = await Promise.all(Array.from({ length: STREAMING_TURNS }, () => start({}, [slowAnswer(400), continued], delta)));
    const hung = await start({}, [{ output: [{ type: "message", text: ["cut ", "off ", "here"] }], fail: { kind: "hang", afterEvents: 6 } }, continued], delta);
    const command = await start(
      { approvalPolicy: "never", sandbox: "danger-full-access" },
      [{ output: [{ type: "function_call", name: "shell", callId: "call-sleep", arguments: { command: ["bash", "-lc", SLEEP_MARKER] } }] }, continued],
      (fr) => fr.method === "item/started" && fr.params.item.type === "commandExecution",
    );
    await eventually(() => processesWith(SLEEP_MARKER).length > 0, "the shell command runs");
    // A client that stopped reading while its thread streams.
    const stalled = await start({}, [slowAnswer(400), continued], delta);
    const stalledSocket = (stalled.c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    stalledSocket.pause();

    // Loaded threads without a turn: unloading stores their rows, which the lock below holds up.
    const idle = await connect(cluster, clients);
    const idleThreads = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const id = (await idle.call("thread/start", {})).thread.id as string;
        sim.script(id, [{ output: [{ type: "message", text: `idle ${i}` }] }, { output: [{ type: "message", text: `adopted ${i}` }] }]);
        return id;
      }),
    );
    for (const id of idleThreads) await threadTurn(idle, id);

    const adopter = await cluster.addHost();
    await eventually(() => cluster.registry.live().some((h) => h.hostId === adopter.id), "the second host is live");

    // A store write that does not return: every update of a thread row waits on this lock until the host is gone.
    const lock = new pg.Client({ connectionString: cluster.databaseUrl });
    await lock.connect();
    let host: Awaited<ReturnType<typeof terminate>>;
    try {
      await lock.query("BEGIN");
      await lock.query("LOCK TABLE threads IN EXCLUSIVE MODE");
      host = await terminate(victim.proc);
    } finally {
      await lock.query("ROLLBACK").catch(() => undefined);
      await lock.end();
    }
    assert.deepEqual({ code: host.code, signal: host.signal }, { code: 0, signal: null }, `host exit; stderr: ${victim.proc.stderr.join("").slice(-2000)}`);
    assert.ok(host.ms <= DRAIN_DEADLINE_MS + STOP_MARGIN_MS, `the host stopped ${Math.round(host.ms)} ms after SIGTERM (drain deadline ${DRAIN_DEADLINE_MS} ms)`);
    assert.ok(host.ms >= DRAIN_DEADLINE_MS - 100, `the host gave its turns the drain deadline (${Math.round(host.ms)} ms)`);
    assert.match(victim.proc.stderr.join(""), /close: stopped waiting for threads to unload/, "the host's row updates were held up and it stopped waiting for them");
    await eventually(() => processesWith(SLEEP_MARKER).length === 0, "the shell command's processes are gone", 2_000);

    // Every turn that was running ends for its client, on the other host: streamed ones go on, the command's ends interrupted.
    for (const r of [...streaming, hung]) {
      const done = await r.c.waitFor((fr) => fr.method === "turn/completed" && fr.params.turn.id === r.turnId, { from: r.from, timeoutMs: 20_000 });
      assert.equal(done.params.turn.status, "completed", `turn of ${r.threadId}`);
      assert.equal(done.params.turn.items.at(-1).text, "continued on the other host");
      assert.equal(done.epoch, r.epoch + 1, "ended by the adopting host");
    }
    const cut = await command.c.waitFor((fr) => fr.method === "turn/completed" && fr.params.turn.id === command.turnId, { from: command.from, timeoutMs: 20_000 });
    assert.equal(cut.params.turn.status, "interrupted", "a command may have run halfway: the turn does not go on");
    assert.match(cut.params.turn.error.message, /session host running this turn was lost/);
    assert.equal(cut.epoch, command.epoch + 1);
    for (const id of idleThreads) await threadTurn(idle, id);
    for (const r of [...streaming, hung, command, stalled]) assert.equal((await ownerOf(cluster, r.threadId)).hostId, adopter.id, `${r.threadId} moved`);

    // The adopter runs a new turn; the last host has nobody to hand it to, so it ends interrupted at the deadline.
    const again = streaming[0]!;
    sim.script(again.threadId, [slowAnswer()]);
    const from = again.c.frames.length;
    const next = (await again.c.call("turn/start", { threadId: again.threadId, input: text("and once more") })).turn.id as string;
    await again.c.waitFor((fr) => delta(fr) && fr.params.turnId === next, { from });

    const router = await terminate(cluster.router);
    assert.deepEqual({ code: router.code, signal: router.signal }, { code: 0, signal: null }, `router exit; stderr: ${cluster.router.stderr.join("").slice(-2000)}`);
    assert.ok(router.ms <= DRAIN_DEADLINE_MS + STOP_MARGIN_MS, `the router stopped ${Math.round(router.ms)} ms after SIGTERM with a stalled client`);

    // Reading again, the stalled client sees its socket closed (and lets the suite close it without waiting).
    stalledSocket.resume();
    await stalled.c.waitClose();

    const last = await terminate(adopter.proc);
    assert.deepEqual({ code: last.code, signal: last.signal }, { code: 0, signal: null }, `adopter exit; stderr: ${adopter.proc.stderr.join("").slice(-2000)}`);
    assert.ok(last.ms <= DRAIN_DEADLINE_MS + STOP_MARGIN_MS, `the last host stopped ${Math.round(last.ms)} ms after SIGTERM`);
    t.diagnostic(`signal to exit: host handing over ${Math.round(host.ms)} ms, router ${Math.round(router.ms)} ms, last host ${Math.round(last.ms)} ms (drain deadline ${DRAIN_DEADLINE_MS} ms)`);
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const stored = await db.query("SELECT status FROM turns WHERE id = $1", [next]);
      assert.deepEqual(stored.rows, [{ status: "interrupted" }], "the turn running at the last host's deadline is stored interrupted");
    } finally {
      await db.end();
    }
  });
});
