/**
 * `npm run bench`: turn overhead and delta throughput for the embedded and distributed topologies.
 * Results go to bench/results/<topology>.json; the README table is made from them. Throughput is the
 * median of several rounds after a warm-up round (1 turn: 9 rounds; 100 turns: 3 rounds).
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type TopologyKind } from "../test/support/topology.ts";

const now = (): number => performance.timeOrigin + performance.now();
const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const DELTAS_PER_TURN = Number(process.env.BENCH_DELTAS_PER_TURN ?? 2000);

/** A lean client: JSON-parses only responses and lifecycle frames; counts deltas by prefix. */
class BenchClient {
  private id = 1;
  private readonly pending = new Map<number, (r: any) => void>();
  deltas = 0;
  private readonly turnWaiters = new Map<string, (at: number) => void>();
  /** turn/completed frames that arrived in the same read as the turn/start response. */
  private readonly early = new Map<string, number>();
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith('{"method":"item/agentMessage/delta"')) {
        this.deltas++;
        return;
      }
      if (s.startsWith('{"method":"turn/completed"')) {
        const at = now();
        const f = JSON.parse(s);
        const w = this.turnWaiters.get(f.params.turn.id);
        if (w) w(at);
        else this.early.set(f.params.turn.id, at);
        this.turnWaiters.delete(f.params.turn.id);
        return;
      }
      if (s.startsWith('{"id":')) {
        const f = JSON.parse(s);
        this.pending.get(f.id)?.(f);
        this.pending.delete(f.id);
      }
    });
  }
  static async connect(url: string, token: string): Promise<BenchClient> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    const c = new BenchClient(ws);
    await c.call("initialize", { clientInfo: { name: "bench", version: "1" }, capabilities: { optOutNotificationMethods: [] } });
    return c;
  }
  call(method: string, params: unknown): Promise<any> {
    const id = this.id++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (f) => (f.error ? reject(new Error(`${method}: ${f.error.message}`)) : resolve(f.result)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  /** Starts a turn; resolves with the send time, the turn id and a promise of its turn/completed arrival. */
  async turn(threadId: string, text: string): Promise<{ sentAt: number; completedAt: Promise<number> }> {
    const sentAt = now();
    let resolveDone!: (at: number) => void;
    const completedAt = new Promise<number>((r) => (resolveDone = r));
    const r = await this.call("turn/start", { threadId, input: [{ type: "text", text }] });
    const early = this.early.get(r.turn.id);
    if (early !== undefined) {
      this.early.delete(r.turn.id);
      resolveDone(early);
    } else this.turnWaiters.set(r.turn.id, resolveDone);
    return { sentAt, completedAt };
  }
  close(): void {
    this.ws.close();
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2));
}

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
  for (const c of clients) c.close();
  return { deltas, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(deltas / seconds) };
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
  const topo = await startTopology(kind, { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn" } });
  if (!topo) throw new Error(`services for ${kind} are missing`);
  try {
    const c = await BenchClient.connect(topo.url, topo.token);
    const o = await overhead(sim, c);
    c.close();
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

const out = join(import.meta.dirname, "results");
mkdirSync(out, { recursive: true });
const only = process.argv[2] as TopologyKind | undefined;
for (const kind of only ? [only] : (["embedded", "distributed"] as const)) {
  const r = await benchTopology(kind);
  writeFileSync(join(out, `${kind}.json`), JSON.stringify(r, null, 2) + "\n");
  console.log(JSON.stringify(r, null, 2));
}
