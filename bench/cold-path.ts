/**
 * `npm run bench:cold-path`: the cold path of a new thread — 20 new threads that each start a
 * 200-delta turn at once — embedded and distributed (1 router × 1 host, 2 routers × 3 hosts). A round
 * opens one connection per thread, starts the threads (`thread/start`, all at once), then their first
 * turns all at once, timed from the first `turn/start` sent to the last `turn/completed`; then a second
 * turn on the same threads, timed the same way (the warm path). The model simulator streams each scripted
 * answer as fast as it can. Every turn is audited (completed, every delta delivered, text exact).
 * Reported per shape: the median round's deltas/s for the first and the second turn, and per turn the
 * `thread/start` answer, the `turn/start` answer and the first delta, p50/p99 over every measured round.
 * Processes run warm: one round runs before the measured ones. Results go to bench/results/cold-path.json.
 *
 * BENCH_COLD_SHAPES (`embedded,1x1,2x3`), BENCH_COLD_THREADS (20), BENCH_COLD_DELTAS (200),
 * BENCH_COLD_ROUNDS (5), BENCH_COLD_ENV (`KEY=VALUE,…`: environment of every Threadmesh process).
 */
import { loadavg } from "node:os";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology } from "../test/support/topology.ts";
import { BenchClient, now, summary } from "./support/bench-client.ts";
import { observeDelivered, scriptedChunks } from "./support/delivery-audit.ts";
import { requireCluster } from "./support/require-cluster.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { deadline } from "./support/deadline.ts";

const THREADS = Number(process.env.BENCH_COLD_THREADS ?? 20);
const DELTAS = Number(process.env.BENCH_COLD_DELTAS ?? 200);
const ROUNDS = Math.max(1, Number(process.env.BENCH_COLD_ROUNDS ?? 5));
const SHAPES = (process.env.BENCH_COLD_SHAPES ?? "embedded,1x1,2x3").split(",").map((s) => s.trim());
const TARGET_PER_SECOND = 50_000;
const ROUND_TIMEOUT_MS = 60_000;
const DELTA_PREFIX = '{"method":"item/agentMessage/delta"';
const EXTRA_ENV = Object.fromEntries(
  (process.env.BENCH_COLD_ENV ?? "")
    .split(",")
    .filter((kv) => kv.includes("="))
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);

interface Mesh {
  urls: string[];
  token: string;
  stop(): Promise<void>;
}

/** One turn per thread, all started at once. */
interface Wave {
  deltas: number;
  seconds: number;
  perSecond: number;
  /** Per turn: turn/start sent → its answer, and → the turn's first delta, ms. */
  answerMs: number[];
  firstDeltaMs: number[];
}

interface Round {
  threadStartMs: number[];
  first: Wave;
  second: Wave;
}

let roundNo = 0;

async function wave(run: BenchRun, threads: Array<{ c: BenchClient; id: string; chunks: string[]; firstDeltaAt: { at: number } }>): Promise<Wave> {
  for (const t of threads) t.firstDeltaAt.at = -1;
  const t0 = now();
  const turns = await Promise.all(
    threads.map(async ({ c, id }) => {
      const t = await c.turn(id, "cold path");
      return { ...t, answeredAt: now() };
    }),
  );
  await deadline(Promise.all(turns.map((t) => t.completedAt)), ROUND_TIMEOUT_MS, `${threads.length} turns`);
  const end = Math.max(...(await Promise.all(turns.map((t) => t.completedAt))));
  const seconds = (end - t0) / 1000;
  threads.forEach(({ id, chunks }, i) => run.audit.expect(turns[i]!.turnId, { threadId: id, chunks }));
  const { deltas } = observeDelivered(run.audit, turns.map((t, i) => ({ client: threads[i]!.c, turnId: t.turnId })));
  return {
    deltas,
    seconds: Number(seconds.toFixed(3)),
    perSecond: Math.round(deltas / seconds),
    answerMs: turns.map((t) => t.answeredAt - t.sentAt),
    firstDeltaMs: turns.map((t, i) => threads[i]!.firstDeltaAt.at - t.sentAt),
  };
}

async function round(run: BenchRun, sim: ModelSim, mesh: Mesh): Promise<Round> {
  const tag = ++roundNo;
  const firsts = Array.from({ length: THREADS }, () => ({ at: -1 }));
  const clients = await Promise.all(
    firsts.map((first, i) =>
      BenchClient.connect(mesh.urls[i % mesh.urls.length]!, mesh.token, {
        onNotification: (s, at) => {
          if (first.at < 0 && s.startsWith(DELTA_PREFIX)) first.at = at;
        },
      }),
    ),
  );
  try {
    const started = await Promise.all(
      clients.map(async (c) => {
        const t0 = now();
        const id = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
        return { id, ms: now() - t0 };
      }),
    );
    const scripted = started.map(({ id }, i) => {
      const chunks = [scriptedChunks(DELTAS, `r${tag}t${i}a`), scriptedChunks(DELTAS, `r${tag}t${i}b`)];
      sim.script(id, chunks.map((text) => ({ output: [{ type: "message", text }] })));
      return chunks;
    });
    const first = await wave(run, started.map(({ id }, i) => ({ c: clients[i]!, id, chunks: scripted[i]![0]!, firstDeltaAt: firsts[i]! })));
    const second = await wave(run, started.map(({ id }, i) => ({ c: clients[i]!, id, chunks: scripted[i]![1]!, firstDeltaAt: firsts[i]! })));
    return { threadStartMs: started.map((s) => s.ms), first, second };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startMesh(shape: string, simUrl: string): Promise<Mesh> {
  const extraEnv = { THREADMESH_LOG_LEVEL: "warn", THREADMESH_MODEL_MAX_RETRIES: "2", ...EXTRA_ENV };
  if (shape === "embedded") {
    const topo = await startTopology("embedded", { simUrl, extraEnv });
    if (!topo) throw new Error("could not start threadmesh dev");
    return { urls: [topo.url], token: topo.token, stop: () => topo.stop() };
  }
  const m = /^(\d+)x(\d+)$/.exec(shape);
  if (!m) throw new Error(`BENCH_COLD_SHAPES: expected embedded or RxH, got "${shape}"`);
  const cluster = await requireCluster({ simUrl, routers: Number(m[1]), hosts: Number(m[2]), extraEnv });
  return { urls: cluster.urls, token: cluster.token, stop: () => cluster.stop() };
}

async function measureShape(run: BenchRun, shape: string): Promise<Record<string, unknown>> {
  const sim = await startModelSim({ port: 0 });
  const mesh = await startMesh(shape, sim.url);
  try {
    const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
    await round(run, sim, mesh);
    const rounds: Round[] = [];
    while (rounds.length < ROUNDS) {
      const r = await round(run, sim, mesh);
      console.log(`  ${shape} round ${rounds.length + 1}/${ROUNDS}: first turn ${r.first.perSecond} deltas/s (${r.first.seconds} s), second ${r.second.perSecond} deltas/s (${r.second.seconds} s); load ${loadavg()[0]!.toFixed(2)}`);
      rounds.push(r);
    }
    const all = (f: (r: Round) => number[]) => summary(rounds.flatMap(f));
    const out = {
      shape,
      firstTurnDeltasPerSecond: median(rounds.map((r) => r.first.perSecond)),
      secondTurnDeltasPerSecond: median(rounds.map((r) => r.second.perSecond)),
      rounds: rounds.map((r) => ({ first: r.first.perSecond, second: r.second.perSecond })),
      threadStartMs: all((r) => r.threadStartMs),
      firstTurn: { turnStartAnswerMs: all((r) => r.first.answerMs), firstDeltaMs: all((r) => r.first.firstDeltaMs) },
      secondTurn: { turnStartAnswerMs: all((r) => r.second.answerMs), firstDeltaMs: all((r) => r.second.firstDeltaMs) },
      loadAverage: { before: loadBefore, after: loadavg().map((x) => Number(x.toFixed(2))) },
    };
    console.log(`${shape}: first turn ${out.firstTurnDeltasPerSecond} deltas/s, second ${out.secondTurnDeltasPerSecond}; first delta p50 ${out.firstTurn.firstDeltaMs.p50} / ${out.secondTurn.firstDeltaMs.p50} ms`);
    return out;
  } finally {
    await mesh.stop();
    await sim.close();
  }
}

await runBenchmark("cold-path", async (run) => {
  const shapes = [];
  for (const s of SHAPES) shapes.push(await measureShape(run, s));
  return { threads: THREADS, deltasPerTurn: DELTAS, rounds: ROUNDS, env: EXTRA_ENV, targetPerSecond: TARGET_PER_SECOND, shapes };
});
