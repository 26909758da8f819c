import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim, type SimResponse } from "@threadmesh/model-sim";
import { startCluster, CLUSTER_TENANT, type Cluster } from "../support/cluster.ts";
import { TestClient } from "../support/ws-client.ts";
import { assertInvariants, callRetrying, pool, storedTurns, threadEvents, type Json } from "./invariants.ts";

/**
 * Chaos with real processes: a session host killed with SIGKILL during 100 active turns, a router
 * killed while it holds 200 connections, the NATS server restarted under load. After each, for every
 * client and thread: every turn ended (completed or interrupted), every item the client saw completed
 * is stored once in its turn with the same content, no entry repeats in the model history, the
 * client's seq runs without gaps or repeats, and no event of an older owner epoch follows a newer one;
 * every thread takes a new turn. Sizes can be lowered with CHAOS_TURNS / CHAOS_CONNECTIONS.
 */
const TURNS = Number(process.env.CHAOS_TURNS ?? 100);
const CONNECTIONS = Number(process.env.CHAOS_CONNECTIONS ?? 200);
/**
 * Liveness, not performance: a turn in flight when something dies that has not ended by then never
 * will (it needs a lease of 3 s, a sweep and the rest of its stream, well under this on a loaded machine).
 */
const TURN_END_DEADLINE_MS = 60_000;
/** A JetStream cluster: the event stream and the KV buckets have 3 replicas, and one node is restarted. */
const NATS_NODES = Number(process.env.CHAOS_NATS_NODES ?? 3);

const text = (t: string) => [{ type: "text", text: t }];
/** A response that streams for about `ms` (40 words), so turns are still running when the fault hits. */
const slow = (ms: number): SimResponse => ({ output: [{ type: "message", text: Array.from({ length: 40 }, (_, i) => `word${i} `) }], chunkDelayMs: ms / 40 });
const quick = (t: string): SimResponse => ({ output: [{ type: "message", text: t }] });

describe("chaos: real processes over NATS (JetStream) and PostgreSQL", () => {
  let sim: ModelSim;
  let cluster: Cluster | null = null;
  const clients: TestClient[] = [];

  const connect = async (url: string): Promise<TestClient> => {
    const c = await TestClient.initialized(url, { token: cluster!.token, name: "chaos" });
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    cluster = null;
  });
  after(async () => {
    await sim?.close();
  });

  async function start(opts: { hosts: number; routers: number }): Promise<Cluster> {
    sim ??= await startModelSim({ port: 0 });
    const c = await startCluster({ simUrl: sim.url, hosts: opts.hosts, routers: opts.routers, natsNodes: NATS_NODES });
    if (!c) throw new Error("the chaos suite needs nats-server (JetStream) and PostgreSQL");
    cluster = c;
    return c;
  }

  /** Starts `n` threads spread over `conns` connections; each thread's starter follows it. */
  async function threads(conns: TestClient[], n: number): Promise<Array<{ c: TestClient; id: string }>> {
    return pool(Array.from({ length: n }, (_, i) => conns[i % conns.length]!), 8, async (c) => ({
      c,
      id: (await callRetrying(c, "thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string,
    }));
  }

  /** Every thread takes a new turn (`input`, at most `concurrency` at once) and completes it. */
  async function assertUsable(list: Array<{ c: TestClient; id: string }>, input: string, concurrency: number): Promise<void> {
    await pool(list, concurrency, async ({ c, id }) => {
      const from = c.frames.length;
      const { turn } = await callRetrying(c, "turn/start", { threadId: id, input: text(input) });
      const done = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from, timeoutMs: 20_000 });
      assert.equal(done.params.turn.status, "completed");
    });
  }

  /** Starts a turn on each thread and resolves once every one of them is streaming. */
  async function startStreamingTurns(list: Array<{ c: TestClient; id: string }>): Promise<string[]> {
    const turnIds = await pool(list, 16, async ({ c, id }) => (await callRetrying(c, "turn/start", { threadId: id, input: text("stream") })).turn.id as string);
    await pool(list, 32, ({ c, id }) => c.waitFor((f) => f.method === "item/agentMessage/delta" && f.params.threadId === id, { timeoutMs: 20_000 }));
    return turnIds;
  }

  /** Each thread's starter followed it alone: its feed keeps every invariant, and `turnIds[i]` ended for it. */
  async function assertFeedsWhole(list: Array<{ c: TestClient; id: string }>, turnIds: readonly string[]): Promise<void> {
    for (const [i, { c, id }] of list.entries()) {
      const events = threadEvents(c.frames, id);
      assertInvariants({ what: `thread ${id}`, events, mustEnd: [turnIds[i]!], stored: await storedTurns(c, id), modelRequests: sim.requests(id) });
    }
  }

  test(`SIGKILL of a session host during ${TURNS} active turns`, async () => {
    const cl = await start({ hosts: 2, routers: 1 });
    // One connection per thread, so each connection's feed is exactly one thread's.
    const conns = await pool(Array.from({ length: TURNS }), 20, () => connect(cl.url));
    const list = await threads(conns, TURNS);
    // Materialize every thread first, then script the streaming turn and the one after the fault.
    for (const { id } of list) sim.script(id, [quick("ready"), slow(4_000), quick("usable afterwards")]);
    await pool(list, 16, async ({ c, id }) => {
      const { turn } = await callRetrying(c, "turn/start", { threadId: id, input: text("ready?") });
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { timeoutMs: 20_000 });
    });
    const turnIds = await startStreamingTurns(list);

    const owners = await Promise.all(list.map(({ id }) => cl.owners.read(CLUSTER_TENANT, id)));
    const victim = owners[0]!.hostId;
    const orphaned = owners.filter((o) => o?.hostId === victim).length;
    assert.ok(orphaned > 0 && orphaned < TURNS, `both hosts hold turns (victim holds ${orphaned} of ${TURNS})`);
    await cl.host(victim).proc.kill();

    const ends = await pool(list, 32, ({ c, id }, i) =>
      c
        .waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnIds[i], { timeoutMs: TURN_END_DEADLINE_MS })
        .then((f) => ({ id, f }))
        .catch((err: Error) => {
          const logs = cl.hosts.filter((h) => h.id !== victim).map((h) => h.proc.stderr.join("").slice(-3000));
          const routerLogs = cl.routers.map((r) => r.stderr.join("").slice(-3000));
          throw new Error(
            `turn ${turnIds[i]} of thread ${id} (owner ${owners[i]?.hostId}, victim ${victim}) never ended: ${err.message}\nsurviving hosts' logs:\n${logs.join("\n")}\nrouters' logs:\n${routerLogs.join("\n")}`,
          );
        }),
    );
    // Every turn was streaming a message when the host died: a safe point, so the adopters continue them all.
    const statuses = ends.map((e) => e.f.params.turn.status as string);
    assert.deepEqual([...new Set(statuses)], ["completed"], "every turn completed");
    const continued = ends.filter((e, i) => owners[i]?.hostId === victim && e.f.epoch > owners[i]!.epoch).length;
    assert.equal(continued, orphaned, "the adopters finished every turn of the killed host");

    // Every thread is usable afterwards, and the feeds kept their invariants.
    await assertUsable(list, "still there?", 16);
    await assertFeedsWhole(list, turnIds);
  });

  test(`SIGKILL of a router holding ${CONNECTIONS} connections: clients resume on another router with afterSeq`, async () => {
    const cl = await start({ hosts: 2, routers: 2 });
    const [doomed, survivor] = cl.urls as [string, string];
    const perThread = 4;
    const conns = await pool(Array.from({ length: CONNECTIONS }), 20, () => connect(doomed));
    /** Where each connection began to follow its thread: its feed is complete from there. */
    const joinedAt = new Map<TestClient, number>();
    const starters = conns.filter((_, i) => i % perThread === 0);
    const list = await threads(starters, starters.length);
    for (const { id } of list) sim.script(id, [quick("ready"), slow(3_000)]);
    await pool(list, 16, async ({ c, id }) => {
      const { turn } = await callRetrying(c, "turn/start", { threadId: id, input: text("ready?") });
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { timeoutMs: 20_000 });
    });
    // Three more connections follow each thread.
    const followers = conns.map((c, i) => ({ c, id: list[Math.floor(i / perThread)]!.id }));
    await pool(followers, 20, async ({ c, id }) => {
      if (c.frames.some((f) => f.result?.thread?.id === id)) joinedAt.set(c, 0);
      else {
        await callRetrying(c, "thread/resume", { threadId: id, excludeTurns: true });
        joinedAt.set(c, c.frames.findIndex((f) => f.result?.thread?.id === id));
      }
    });
    const turnIds = await startStreamingTurns(list);
    const turnOf = new Map(list.map(({ id }, i) => [id, turnIds[i]!]));

    cl.router.child.kill("SIGKILL");
    await pool(conns, 50, (c) => c.waitClose());

    // Each client comes back on the other router and asks for what it missed.
    const resumed = await pool(followers, 20, async ({ c, id }) => {
      const seen = threadEvents(c.frames.slice(joinedAt.get(c) ?? 0), id);
      // Broadcasts of the thread reach every connection, so the newest seq may predate the join.
      const afterSeq = Math.max(0, ...threadEvents(c.frames, id).map((f) => f.seq as number));
      const back = await connect(survivor);
      const res = await callRetrying(back, "thread/resume", { threadId: id, excludeTurns: true, afterSeq });
      return { old: c, back, id, seen, afterSeq, from: back.frames.findIndex((f) => f.result?.replay !== undefined), recovered: res.replay?.recovered as boolean };
    });
    assert.deepEqual(resumed.filter((r) => !r.recovered).map((r) => r.id), [], "every gap was in the replay window");
    await pool(resumed, 50, ({ back, id }) =>
      back
        .waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnOf.get(id), { timeoutMs: TURN_END_DEADLINE_MS })
        .catch((err: Error) => {
          throw new Error(`turn ${turnOf.get(id)} of thread ${id} never ended for a resumed client: ${err.message}`);
        }),
    );
    for (const { back, id, seen, from, afterSeq } of resumed) {
      const after = threadEvents(back.frames.slice(from), id);
      const what = `a client of thread ${id}`;
      assert.equal(after[0]?.seq, afterSeq + 1, `${what}: the replay starts right after afterSeq`);
      const all: Json[] = [...seen.map((f) => ({ ...f, __source: "old" })), ...after.map((f) => ({ ...f, __source: "new" }))];
      assertInvariants({ what, events: all, mustEnd: [turnOf.get(id)!], stored: await storedTurns(back, id), modelRequests: sim.requests(id) });
      // A resume announces the thread's goal (here: none) to every subscriber, which may come after the turn's end.
      assert.equal(all.filter((f) => !String(f.method).startsWith("thread/goal/")).at(-1)!.method, "turn/completed");
    }
  });

  test(`restart of a NATS node (of ${NATS_NODES}) under load: every turn ends, every thread is usable afterwards, every feed is whole`, async () => {
    const cl = await start({ hosts: 2, routers: 1 });
    const conns = await pool(Array.from({ length: 20 }), 20, () => connect(cl.url));
    const list = await threads(conns, 20);
    for (const { id } of list) sim.script(id, [quick("ready"), slow(3_000), quick("after the restart")]);
    await pool(list, 16, async ({ c, id }) => {
      const { turn } = await callRetrying(c, "turn/start", { threadId: id, input: text("ready?") });
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { timeoutMs: 20_000 });
    });
    const turnIds = await startStreamingTurns(list);
    await cl.restartNats();

    // A turn whose events were lost with the connection still ends: the client asks for the gap.
    await pool(list, 8, async ({ c, id }, i) => {
      const ended = (from = 0) => c.frames.slice(from).some((f) => f.method === "turn/completed" && f.params.turn.id === turnIds[i]);
      const deadline = Date.now() + TURN_END_DEADLINE_MS;
      while (!ended()) {
        if (Date.now() >= deadline) {
          const tail = threadEvents(c.frames, id).slice(-3).map((f) => `${f.seq}:${f.method}`);
          const routerLog = cl.routers.flatMap((r) => r.stderr).join("").slice(-1500);
          assert.fail(`turn ${turnIds[i]} of thread ${id} never ended; connection ${c.closed ? `closed ${c.closed.code} ${c.closed.reason}` : "open"}; last events ${tail.join(" ")}; router log: ${routerLog}`);
        }
        const last = threadEvents(c.frames, id).at(-1)?.seq ?? 0;
        const from = c.frames.length;
        await c.call("thread/resume", { threadId: id, excludeTurns: true, afterSeq: last }).catch(() => undefined);
        await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnIds[i], { from, timeoutMs: 2_000 }).catch(() => undefined);
      }
    });
    await assertUsable(list, "after", 8);
    await assertFeedsWhole(list, turnIds);
  });
});
