/**
 * `npm run bench`: turn overhead and delta throughput for the embedded and distributed topologies.
 * Results go to bench/results/<topology>.json; the README table is made from them. Throughput is the
 * median of several rounds after a warm-up round (1 turn: 9 rounds; 100 turns: 3 rounds).
 */
import { writeResult } from "./support/results.ts";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type TopologyKind } from "../test/support/topology.ts";
import { BenchClient, now, pct } from "./support/bench-client.ts";

const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const DELTAS_PER_TURN = Number(process.env.BENCH_DELTAS_PER_TURN ?? 2000);
/** The host lease for these runs: the product default (3 s) unless BENCH_LEASE_TTL_MS says otherwise. */
const BENCH_LEASE_TTL_MS = process.env.BENCH_LEASE_TTL_MS;

async function overhead(sim: ModelSim, c: BenchClient): Promise<{ toModel: number[]; toCompleted: number[] }> {
  const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
  sim.script(threadId, Array.from({ length: TURNS + 20 }, () => ({ output: [{ type: "message" as const, text: "ok" }] })));
  const toModel: number[] = [];
  const toCompleted: number[] = [];
  for (let i = 0; i < TURNS + 20; i++) {
    const req = new Promise<number>((r) => sim.once("request", (e) => r(e.receivedAt)));
    const end = new Promise<number>((r) => sim.once("streamEnd", (e) => r(e.at)));
    const t = await c.turn(threadId, `turn ${i}`);
    const [reqAt, endAt, doneAt] = await Promise.all([req, end, t.completedAt]);
    if (i >= 20) {
      toModel.push(reqAt - t.sentAt);
      toCompleted.push(doneAt - endAt);
    }
  }
  return { toModel, toCompleted };
}

interface Throughput {
  deltas: number;
  seconds: number;
  perSecond: number;
  /** Turns by final status: a failed turn would inflate nothing but must not pass unnoticed. */
  turns: Record<string, number>;
}

/** One round: `concurrent` turns started together, timed from the first turn/start to the last turn/completed. */
async function throughputRound(url: string, token: string, concurrent: number): Promise<Throughput> {
  const conns = Math.min(concurrent, 10);
  const clients = await Promise.all(Array.from({ length: conns }, () => BenchClient.connect(url, token)));
  const threads: Array<{ c: BenchClient; id: string }> = [];
  for (let i = 0; i < concurrent; i++) {
    const c = clients[i % conns]!;
    threads.push({ c, id: (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id });
  }
  const t0 = now();
  const turns = await Promise.all(threads.map(({ c, id }) => c.turn(id, "stream")));
  await Promise.all(turns.map((t) => t.completedAt));
  const seconds = (now() - t0) / 1000;
  const deltas = clients.reduce((n, c) => n + c.deltas, 0);
  const statuses: Record<string, number> = {};
  for (const c of clients) for (const [status, n] of Object.entries(c.turnStatuses)) statuses[status] = (statuses[status] ?? 0) + n;
  await Promise.all(clients.map((c) => c.close()));
  return { deltas, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(deltas / seconds), turns: statuses };
}

/** A warm-up round, then `rounds` measured rounds; reports the median round and every round's rate. */
async function throughput(url: string, token: string, concurrent: number, rounds: number): Promise<Throughput & { rounds: number[] }> {
  await throughputRound(url, token, concurrent);
  const results: Throughput[] = [];
  for (let i = 0; i < rounds; i++) results.push(await throughputRound(url, token, concurrent));
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return { ...sorted[Math.floor(sorted.length / 2)]!, rounds: results.map((r) => r.perSecond) };
}

async function benchTopology(kind: TopologyKind): Promise<Record<string, unknown>> {
  const sim = await startModelSim({ port: 0, generative: { tokensPerSecond: 0, ttftMs: 0, tokensPerResponse: DELTAS_PER_TURN, toolCallProbability: 0 } });
  const topo = await startTopology(kind, { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn", ...(BENCH_LEASE_TTL_MS ? { THREADMESH_LEASE_TTL_MS: BENCH_LEASE_TTL_MS } : {}) } });
  if (!topo) throw new Error(`services for ${kind} are missing`);
  try {
    const c = await BenchClient.connect(topo.url, topo.token);
    const o = await overhead(sim, c);
    await c.close();
    const one = await throughput(topo.url, topo.token, 1, 9);
    const hundred = await throughput(topo.url, topo.token, 100, 3);
    return {
      topology: kind,
      turns: TURNS,
      turnStartToModelRequestMs: { p50: pct(o.toModel, 50), p99: pct(o.toModel, 99) },
      streamEndToTurnCompletedMs: { p50: pct(o.toCompleted, 50), p99: pct(o.toCompleted, 99) },
      deltasPerSecond1Turn: one,
      deltasPerSecond100Turns: hundred,
      deltasPerTurn: DELTAS_PER_TURN,
      machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
      at: new Date().toISOString(),
    };
  } finally {
    await topo.stop();
    await sim.close();
  }
}

const only = process.argv[2] as TopologyKind | undefined;
for (const kind of only ? [only] : (["embedded", "distributed"] as const)) {
  const r = await benchTopology(kind);
  writeResult(kind, r);
}
