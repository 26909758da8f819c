/**
 * `npm run bench`: turn overhead and delta throughput for the embedded and distributed topologies.
 * Results go to bench/results/<topology>.json; the README table is made from them. Throughput is the
 * median of several rounds after a warm-up round (1 turn: 9 rounds; 100 turns: 3 rounds). Every turn's
 * answer is scripted into the model simulator, and every turn (warm-up included) is audited: it must
 * complete, and its deltas, concatenated, must equal the completed item's text and the text the model
 * sent. Throughput counts only deltas that arrived. A run that lost anything is recorded as failed,
 * without figures, and exits non-zero.
 */
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type TopologyKind } from "../test/support/topology.ts";
import { BenchClient, now, pct } from "./support/bench-client.ts";
import { observeDelivered, scriptedChunks } from "./support/delivery-audit.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { deadline } from "./support/deadline.ts";

const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const WARMUP_TURNS = Number(process.env.BENCH_WARMUP_TURNS ?? 20);
const DELTAS_PER_TURN = Number(process.env.BENCH_DELTAS_PER_TURN ?? 2000);
const ROUNDS_1 = Number(process.env.BENCH_ROUNDS_1 ?? 9);
const ROUNDS_100 = Number(process.env.BENCH_ROUNDS_100 ?? 3);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 100);
/** A round whose turns have not all completed by then fails the run. */
const ROUND_TIMEOUT_MS = 120_000;
/** The host lease for these runs: the product default (3 s) unless BENCH_LEASE_TTL_MS says otherwise. */
const BENCH_LEASE_TTL_MS = process.env.BENCH_LEASE_TTL_MS;

async function overhead(run: BenchRun, sim: ModelSim, c: BenchClient): Promise<{ toModel: number[]; toCompleted: number[] }> {
  const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
  const total = TURNS + WARMUP_TURNS;
  const answers = Array.from({ length: total }, (_, i) => [`ok${i}`]);
  sim.script(threadId, answers.map((text) => ({ output: [{ type: "message" as const, text }] })));
  const toModel: number[] = [];
  const toCompleted: number[] = [];
  for (let i = 0; i < total; i++) {
    const req = new Promise<number>((r) => sim.once("request", (e) => r(e.receivedAt)));
    const end = new Promise<number>((r) => sim.once("streamEnd", (e) => r(e.at)));
    const t = await c.turn(threadId, `turn ${i}`);
    run.audit.expect(t.turnId, { threadId, chunks: answers[i]! });
    const [reqAt, endAt, doneAt] = await deadline(Promise.all([req, end, t.completedAt]), ROUND_TIMEOUT_MS, `overhead turn ${i}`);
    run.audit.observe(c.auditFrames(), [t.turnId]);
    if (i >= WARMUP_TURNS) {
      toModel.push(reqAt - t.sentAt);
      toCompleted.push(doneAt - endAt);
    }
  }
  return { toModel, toCompleted };
}

interface Throughput {
  /** Model deltas that arrived (all of them, or the run failed). */
  deltas: number;
  /** `item/agentMessage/delta` frames that carried them. */
  frames: number;
  seconds: number;
  perSecond: number;
}

let roundNo = 0;

/** One round: `concurrent` turns started together, timed from the first turn/start to the last turn/completed. */
async function throughputRound(run: BenchRun, sim: ModelSim, url: string, token: string, concurrent: number): Promise<Throughput> {
  const round = ++roundNo;
  const conns = Math.min(concurrent, 10);
  const clients = await Promise.all(Array.from({ length: conns }, () => BenchClient.connect(url, token)));
  try {
    const threads: Array<{ c: BenchClient; id: string; chunks: string[] }> = [];
    for (let i = 0; i < concurrent; i++) {
      const c = clients[i % conns]!;
      const id = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
      const chunks = scriptedChunks(DELTAS_PER_TURN, `r${round}t${i}`);
      sim.script(id, [{ output: [{ type: "message", text: chunks }] }]);
      threads.push({ c, id, chunks });
    }
    const t0 = now();
    const turns = await Promise.all(threads.map(({ c, id }) => c.turn(id, "stream")));
    await deadline(Promise.all(turns.map((t) => t.completedAt)), ROUND_TIMEOUT_MS, `round of ${concurrent} turn(s)`);
    const seconds = (now() - t0) / 1000;
    threads.forEach(({ id, chunks }, i) => run.audit.expect(turns[i]!.turnId, { threadId: id, chunks }));
    const { deltas, frames } = observeDelivered(run.audit, turns.map((t, i) => ({ client: threads[i]!.c, turnId: t.turnId })));
    return { deltas, frames, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(deltas / seconds) };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** A warm-up round, then `rounds` measured rounds; reports the median round and every round's rate. */
async function throughput(run: BenchRun, sim: ModelSim, url: string, token: string, concurrent: number, rounds: number): Promise<Throughput & { rounds: number[] }> {
  await throughputRound(run, sim, url, token, concurrent);
  const results: Throughput[] = [];
  for (let i = 0; i < rounds; i++) results.push(await throughputRound(run, sim, url, token, concurrent));
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return { ...sorted[Math.floor(sorted.length / 2)]!, rounds: results.map((r) => r.perSecond) };
}

async function benchTopology(run: BenchRun, kind: TopologyKind): Promise<Record<string, unknown>> {
  const sim = await startModelSim({ port: 0 });
  const topo = await startTopology(kind, { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn", ...(BENCH_LEASE_TTL_MS ? { THREADMESH_LEASE_TTL_MS: BENCH_LEASE_TTL_MS } : {}) } });
  if (!topo) throw new Error(`services for ${kind} are missing`);
  try {
    const c = await BenchClient.connect(topo.url, topo.token);
    const o = await overhead(run, sim, c);
    await c.close();
    const one = await throughput(run, sim, topo.url, topo.token, 1, ROUNDS_1);
    const many = await throughput(run, sim, topo.url, topo.token, CONCURRENT, ROUNDS_100);
    return {
      topology: kind,
      turns: TURNS,
      turnStartToModelRequestMs: { p50: pct(o.toModel, 50), p99: pct(o.toModel, 99) },
      streamEndToTurnCompletedMs: { p50: pct(o.toCompleted, 50), p99: pct(o.toCompleted, 99) },
      deltasPerSecond1Turn: one,
      [`deltasPerSecond${CONCURRENT}Turns`]: many,
      deltasPerTurn: DELTAS_PER_TURN,
    };
  } finally {
    await topo.stop();
    await sim.close();
  }
}

const only = process.argv[2] as TopologyKind | undefined;
for (const kind of only ? [only] : (["embedded", "distributed"] as const)) {
  await runBenchmark(kind, (run) => benchTopology(run, kind));
}
