/**
 * `npm run bench:gateway`: the partner gRPC gateway beside the WebSocket port, same topology, same run.
 * For each topology (embedded, distributed; or the one named on the command line) and each transport:
 * turn/start → model request over sequential one-message turns (after warm-up turns), and deltas/s
 * delivered for 1 turn and for 100 concurrent turns (median round after a warm-up round). Every turn
 * is audited as in bench/run.ts: a lost delta fails the run. Results: bench/results/gateway.json.
 * Turn shedding and the hosts' lag check are off: the figures are the relay's, on a shared machine
 * whose load would otherwise refuse some of the concurrent turns.
 */
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type TopologyKind } from "../test/support/topology.ts";
import { freePort } from "../test/support/server-process.ts";
import { BenchClient, now, pct } from "./support/bench-client.ts";
import { GrpcBenchClient } from "./support/grpc-bench-client.ts";
import { observeDelivered, scriptedChunks } from "./support/delivery-audit.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { deadline } from "./support/deadline.ts";

const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const WARMUP_TURNS = Number(process.env.BENCH_WARMUP_TURNS ?? 20);
const DELTAS_PER_TURN = Number(process.env.BENCH_DELTAS_PER_TURN ?? 2000);
const ROUNDS_1 = Number(process.env.BENCH_ROUNDS_1 ?? 5);
const ROUNDS_100 = Number(process.env.BENCH_ROUNDS_100 ?? 3);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 100);
const ROUND_TIMEOUT_MS = 120_000;

type Client = BenchClient | GrpcBenchClient;
type Transport = "websocket" | "grpc";

async function overhead(run: BenchRun, sim: ModelSim, c: Client): Promise<number[]> {
  const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
  const total = TURNS + WARMUP_TURNS;
  const answers = Array.from({ length: total }, (_, i) => [`ok${i}`]);
  sim.script(threadId, answers.map((text) => ({ output: [{ type: "message" as const, text }] })));
  const toModel: number[] = [];
  for (let i = 0; i < total; i++) {
    const req = new Promise<number>((r) => sim.once("request", (e) => r(e.receivedAt)));
    const t = await c.turn(threadId, `turn ${i}`);
    run.audit.expect(t.turnId, { threadId, chunks: answers[i]! });
    const [reqAt] = await deadline(Promise.all([req, t.completedAt]), ROUND_TIMEOUT_MS, `overhead turn ${i}`);
    run.audit.observe(c.auditFrames(), [t.turnId]);
    if (i >= WARMUP_TURNS) toModel.push(reqAt - t.sentAt);
  }
  return toModel;
}

let roundNo = 0;

async function throughputRound(run: BenchRun, sim: ModelSim, connect: () => Promise<Client>, concurrent: number): Promise<{ deltas: number; frames: number; seconds: number; perSecond: number }> {
  const round = ++roundNo;
  const conns = Math.min(concurrent, 10);
  const clients = await Promise.all(Array.from({ length: conns }, connect));
  try {
    const threads: Array<{ c: Client; id: string; chunks: string[] }> = [];
    for (let i = 0; i < concurrent; i++) {
      const c = clients[i % conns]!;
      const id = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
      const chunks = scriptedChunks(DELTAS_PER_TURN, `g${round}t${i}`);
      sim.script(id, [{ output: [{ type: "message", text: chunks }] }]);
      threads.push({ c, id, chunks });
    }
    const t0 = now();
    const turns = await Promise.all(threads.map(({ c, id }) => c.turn(id, "stream")));
    await deadline(Promise.all(turns.map((t) => t.completedAt)), ROUND_TIMEOUT_MS, `round of ${concurrent} turn(s)`);
    const seconds = (now() - t0) / 1000;
    threads.forEach(({ id, chunks }, i) => run.audit.expect(turns[i]!.turnId, { threadId: id, chunks }));
    const { deltas, frames } = observeDelivered<Client>(run.audit, turns.map((t, i) => ({ client: threads[i]!.c, turnId: t.turnId })));
    return { deltas, frames, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(deltas / seconds) };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function throughput(run: BenchRun, sim: ModelSim, connect: () => Promise<Client>, concurrent: number, rounds: number): Promise<{ perSecond: number; rounds: number[] }> {
  await throughputRound(run, sim, connect, concurrent);
  const results: number[] = [];
  for (let i = 0; i < rounds; i++) results.push((await throughputRound(run, sim, connect, concurrent)).perSecond);
  const sorted = [...results].sort((a, b) => a - b);
  return { perSecond: sorted[Math.floor(sorted.length / 2)]!, rounds: results };
}

async function benchTopology(run: BenchRun, kind: TopologyKind): Promise<Record<string, unknown>> {
  const sim = await startModelSim({ port: 0 });
  const port = await freePort();
  const topo = await startTopology(kind, { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn", THREADMESH_GATEWAY_PORT: String(port), THREADMESH_SHEDDING: "false", THREADMESH_TURN_LAG_BUDGET_MS: "0" } });
  if (!topo) throw new Error(`services for ${kind} are missing`);
  const address = `127.0.0.1:${port}`;
  const connectors: Record<Transport, () => Promise<Client>> = {
    websocket: () => BenchClient.connect(topo.url, topo.token),
    grpc: () => GrpcBenchClient.connect(address, topo.token),
  };
  try {
    const out: Record<string, unknown> = {};
    for (const transport of ["websocket", "grpc"] as const) {
      const connect = connectors[transport];
      const c = await connect();
      const toModel = await overhead(run, sim, c);
      await c.close();
      const one = await throughput(run, sim, connect, 1, ROUNDS_1);
      const many = await throughput(run, sim, connect, CONCURRENT, ROUNDS_100);
      out[transport] = {
        turnStartToModelRequestMs: { p50: pct(toModel, 50), p99: pct(toModel, 99) },
        deltasPerSecond1Turn: one,
        [`deltasPerSecond${CONCURRENT}Turns`]: many,
      };
      console.log(`${kind} ${transport}: turn/start → model request p50 ${pct(toModel, 50)} / p99 ${pct(toModel, 99)} ms; deltas/s 1 turn ${one.perSecond}, ${CONCURRENT} turns ${many.perSecond}`);
    }
    return out;
  } finally {
    await topo.stop();
    await sim.close();
  }
}

const only = process.argv[2] as TopologyKind | undefined;
await runBenchmark("gateway", async (run) => {
  const out: Record<string, unknown> = { turns: TURNS, deltasPerTurn: DELTAS_PER_TURN };
  for (const kind of only ? [only] : (["embedded", "distributed"] as const)) out[kind] = await benchTopology(run, kind);
  return out;
});
