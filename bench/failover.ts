/**
 * `npm run bench:failover`: takeover time after a session host is killed or stopped. One router, two
 * hosts, NATS, PostgreSQL, model simulator. Each round loads a thread with one turn of history, SIGKILLs
 * its owner and times a `turn/start` for it from the kill until its response (served by the other host,
 * which adopted the thread with epoch+1); then a new host replaces the dead one. The takeover waits for
 * the dead host's lease to end, so `afterLeaseMs` (response time minus the wait for the lease) shows
 * what the mesh adds. A second series kills the owner while a turn streams and no client sends anything:
 * the orphan sweep of the other host adopts the thread and continues the turn; `orphanAdoptedMs` runs
 * from the kill to the adopter's first event for the thread (epoch+1), `orphanTurnEndMs` to the
 * continued turn's `turn/completed`. A third series stops the owner with SIGTERM: it finishes its turn
 * and releases its threads, and `sigtermHandoverMs` runs from its exit to the response of the next
 * `turn/start`, which the other host serves without waiting for a lease. Every turn is audited (it
 * completes with the scripted answer, whose deltas arrive whole); a run that lost anything is recorded
 * as failed, without figures, and exits non-zero. Results go to bench/results/failover.json.
 */
import assert from "node:assert/strict";
import { startModelSim } from "@threadmesh/model-sim";
import { CLUSTER_TENANT, startCluster } from "../test/support/cluster.ts";
import { eventually } from "../test/support/eventually.ts";
import { TestClient } from "../test/support/ws-client.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";

const KILLS = Math.max(1, Number(process.env.BENCH_FAILOVER_KILLS ?? 20));
const HEARTBEAT_INTERVAL_MS = Number(process.env.BENCH_FAILOVER_HEARTBEAT_MS ?? 1_000);
const LEASE_TTL_MS = Number(process.env.BENCH_FAILOVER_LEASE_MS ?? 3_000);
/** A turn that has not ended by then fails the run. */
const TURN_TIMEOUT_MS = 30_000;

const text = (t: string) => [{ type: "text", text: t }];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), min: round(s[0]!), max: round(s.at(-1)!), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function bench(run: BenchRun): Promise<Record<string, unknown>> {
  const sim = await startModelSim({ port: 0 });
  const cluster = await startCluster({
    simUrl: sim.url,
    hosts: 2,
    extraEnv: { THREADMESH_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS), THREADMESH_LEASE_TTL_MS: String(LEASE_TTL_MS), THREADMESH_LOG_LEVEL: "error" },
  });
  if (!cluster) throw new Error("bench:failover needs nats-server (JetStream) and PostgreSQL");
  const c = await TestClient.initialized(cluster.url, { token: cluster.token, validate: false });
  const takeover: number[] = [];
  const afterLease: number[] = [];
  const orphanAdopted: number[] = [];
  const orphanTurnEnd: number[] = [];
  const handover: number[] = [];
  const replaceHost = async (dead: string) => {
    const fresh = await cluster.addHost();
    await eventually(() => cluster.registry.isAlive(fresh.id) && !cluster.registry.isAlive(dead), "the replacement host is live");
  };
  /** Waits for the turn's end and audits it against the answer scripted for it. */
  const ended = async (threadId: string, turnId: string, answer: string[], from: number) => {
    run.audit.expect(turnId, { threadId, chunks: answer });
    const done = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from, timeoutMs: TURN_TIMEOUT_MS });
    run.audit.observe(c.frames.slice(from), [turnId]);
    return done;
  };
  try {
    for (let i = 0; i < KILLS; i++) {
      const threadId = (await c.call("thread/start", {})).thread.id as string;
      const answers = [[`before${i}`], [`after${i}`]];
      sim.script(threadId, answers.map((text) => ({ output: [{ type: "message" as const, text }] })));
      let from = c.frames.length;
      const first = await c.call("turn/start", { threadId, input: text("before the kill") });
      await ended(threadId, first.turn.id, answers[0]!, from);
      const owner = await cluster.owners.read(CLUSTER_TENANT, threadId);
      assert.ok(owner);
      const leaseEnd = cluster.registry.expiresAt(owner.hostId);

      await cluster.host(owner.hostId).proc.kill();
      const killedAt = Date.now();
      from = c.frames.length;
      const second = await c.call("turn/start", { threadId, input: text("after the kill") });
      const ms = Date.now() - killedAt;
      takeover.push(ms);
      afterLease.push(ms - Math.max(0, leaseEnd - killedAt));
      const adopted = await cluster.owners.read(CLUSTER_TENANT, threadId);
      assert.ok(adopted && adopted.hostId !== owner.hostId && adopted.epoch === owner.epoch + 1, "adopted by the other host with epoch+1");
      await ended(threadId, second.turn.id, answers[1]!, from);
      console.log(`kill ${i + 1}/${KILLS}: takeover ${ms} ms`);
      await replaceHost(owner.hostId);
    }
    for (let i = 0; i < KILLS; i++) {
      const threadId = (await c.call("thread/start", {})).thread.id as string;
      const continued = [`continued${i}`];
      sim.script(threadId, [
        { output: [{ type: "message", text: ["cut ", "off ", "here"] }], fail: { kind: "hang", afterEvents: 6 } },
        { output: [{ type: "message", text: continued }] },
      ]);
      const from = c.frames.length;
      const turn = await c.call("turn/start", { threadId, input: text("a turn in flight") });
      await c.waitFor((f) => f.method === "item/agentMessage/delta" && f.params.threadId === threadId, { from });
      const owner = await cluster.owners.read(CLUSTER_TENANT, threadId);
      assert.ok(owner);

      await cluster.host(owner.hostId).proc.kill();
      const killedAt = Date.now();
      const adoptedFrom = c.frames.length;
      await c.waitFor((f) => f.epoch === owner.epoch + 1 && (f.params?.threadId === threadId || f.params?.thread?.id === threadId), { from: adoptedFrom, timeoutMs: TURN_TIMEOUT_MS });
      const adoptedMs = Date.now() - killedAt;
      const done = await ended(threadId, turn.turn.id, continued, from);
      const endMs = Date.now() - killedAt;
      assert.equal(done.params.turn.status, "completed", "the adopter continued the turn");
      orphanAdopted.push(adoptedMs);
      orphanTurnEnd.push(endMs);
      console.log(`kill ${i + 1}/${KILLS} mid-turn: adopted ${adoptedMs} ms, turn ended ${endMs} ms`);
      await replaceHost(owner.hostId);
    }
    for (let i = 0; i < KILLS; i++) {
      const threadId = (await c.call("thread/start", {})).thread.id as string;
      const answers = [[`draining${i}`], [`adopted${i}`]];
      sim.script(threadId, answers.map((text) => ({ output: [{ type: "message" as const, text }] })));
      let from = c.frames.length;
      const first = await c.call("turn/start", { threadId, input: text("before the stop") });
      await ended(threadId, first.turn.id, answers[0]!, from);
      const owner = await cluster.owners.read(CLUSTER_TENANT, threadId);
      assert.ok(owner);
      const victim = cluster.host(owner.hostId).proc;
      victim.child.kill("SIGTERM");
      await victim.exited;
      const exitedAt = Date.now();
      const released = await cluster.owners.read(CLUSTER_TENANT, threadId);
      assert.ok(released?.released, "the stopped host released the thread");
      from = c.frames.length;
      const second = await c.call("turn/start", { threadId, input: text("after the stop") });
      const ms = Date.now() - exitedAt;
      handover.push(ms);
      await ended(threadId, second.turn.id, answers[1]!, from);
      console.log(`stop ${i + 1}/${KILLS}: served ${ms} ms after the exit`);
      await replaceHost(owner.hostId);
    }
  } finally {
    await c.close();
    await cluster.stop();
    await sim.close();
  }
  return {
    config: { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, leaseTtlMs: LEASE_TTL_MS, hosts: 2 },
    kills: KILLS,
    takeoverMs: stats(takeover),
    afterLeaseMs: stats(afterLease),
    orphanAdoptedMs: stats(orphanAdopted),
    orphanTurnEndMs: stats(orphanTurnEnd),
    sigtermHandoverMs: stats(handover),
    samples: takeover,
    orphanSamples: orphanAdopted,
    sigtermSamples: handover,
  };
}

await runBenchmark("failover", bench);
