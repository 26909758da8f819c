/**
 * `npm run bench:latency`: request/reply latency through the mesh at low load, measured at the client.
 * Distributed topology (router process, host process, nats-server, PostgreSQL); one connection sends
 * cheap thread-scoped requests to a loaded thread one at a time: `thread/read` without turns and
 * `thread/name/set`. Targets: p50 ≤ 1 ms, p99 ≤ 5 ms. `model/list`, which the router answers itself, is
 * measured too: the client ↔ router share of the round trip, and so is the floor: a bare NATS
 * request/reply between this process and an echo process, 300-byte payloads, on a nats-server of its own.
 * Every request must be answered without an error (counted as sent and delivered); a run in which one
 * was not is recorded as failed, without figures, and exits non-zero. Results go to
 * bench/results/mesh-latency.json.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { startModelSim } from "@threadmesh/model-sim";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../test/support/nats-server.ts";
import { startTopology } from "../test/support/topology.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";

const REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 2_000);
const WARMUP = Number(process.env.BENCH_LATENCY_WARMUP ?? 300);
const TARGET = { p50: 1, p99: 5 };

/** One connection, one request in flight; notifications are skipped unparsed. */
class LatencyClient {
  #id = 0;
  #waiting: { id: number; resolve: (f: { result?: unknown; error?: { message: string } }) => void } | null = null;
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const s = data.toString();
      if (!s.startsWith('{"id":') || !this.#waiting) return;
      const f = JSON.parse(s) as { id: number; result?: unknown; error?: { message: string } };
      if (f.id !== this.#waiting.id) return;
      const w = this.#waiting;
      this.#waiting = null;
      w.resolve(f);
    });
  }

  static async connect(url: string, token: string): Promise<LatencyClient> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    const c = new LatencyClient(ws);
    await c.call("initialize", { clientInfo: { name: "bench-latency", version: "1" }, capabilities: { optOutNotificationMethods: [] } });
    ws.send(JSON.stringify({ method: "initialized" }));
    return c;
  }

  async call(method: string, params: unknown): Promise<any> {
    const id = ++this.#id;
    const f = await new Promise<{ result?: unknown; error?: { message: string } }>((resolve) => {
      this.#waiting = { id, resolve };
      this.ws.send(JSON.stringify({ id, method, params }));
    });
    if (f.error) throw new Error(`${method}: ${f.error.message}`);
    return f.result;
  }

  close(): void {
    this.ws.close();
  }
}

function stats(ms: number[]): Record<string, number> {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3));
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), mean: Number((s.reduce((a, b) => a + b, 0) / s.length).toFixed(3)) };
}

/**
 * Sends `make(i)` one at a time; returns the client-side round trip of each measured request, in ms.
 * Every request is counted as sent, and as delivered once its answer (not an error) arrived.
 */
async function measure(run: BenchRun, c: LatencyClient, method: string, make: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const params = make(i);
    run.count(`${method} requests answered`, 1, 0);
    const t0 = performance.now();
    await c.call(method, params);
    if (i >= WARMUP) out.push(performance.now() - t0);
    run.count(`${method} requests answered`, 0, 1);
  }
  return out;
}

/** Request/reply round trips to an echo process over a nats-server of its own, in ms. */
async function bareNats(run: BenchRun): Promise<number[]> {
  const server = await startNatsServer();
  if (!server) throw new Error("nats-server is missing");
  const echo = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "support", "nats-echo.ts"), server.url, "bench.echo"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const nc = await connect({ servers: server.url });
  try {
    await once(echo.stdout!, "data");
    const payload = new Uint8Array(300);
    const out: number[] = [];
    for (let i = 0; i < WARMUP + REQUESTS; i++) {
      run.count("bare NATS requests answered", 1, 0);
      const t0 = performance.now();
      const reply = await nc.request("bench.echo", payload, { timeout: 5_000 });
      if (i >= WARMUP) out.push(performance.now() - t0);
      if (reply.data.length === payload.length) run.count("bare NATS requests answered", 0, 1);
    }
    return out;
  } finally {
    await nc.close();
    echo.kill("SIGTERM");
    await once(echo, "exit");
    await server.stop();
  }
}

async function bench(run: BenchRun): Promise<Record<string, unknown>> {
  const bare = stats(await bareNats(run));
  const sim = await startModelSim({ port: 0 });
  const topo = await startTopology("distributed", { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn" } });
  if (!topo) throw new Error("nats-server or PostgreSQL is missing");
  try {
    const c = await LatencyClient.connect(topo.url, topo.token);
    const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
    const local = stats(await measure(run, c, "model/list", () => ({})));
    const read = stats(await measure(run, c, "thread/read", () => ({ threadId, includeTurns: false })));
    const nameSet = stats(await measure(run, c, "thread/name/set", (i) => ({ threadId, name: `bench ${i}` })));
    c.close();
    return {
      topology: "distributed",
      requests: REQUESTS,
      warmup: WARMUP,
      bareNatsRequestReplyMs: bare,
      routerLocalModelListMs: local,
      threadReadMs: read,
      threadNameSetMs: nameSet,
      targetMs: TARGET,
      met: read.p50! <= TARGET.p50 && read.p99! <= TARGET.p99 && nameSet.p50! <= TARGET.p50 && nameSet.p99! <= TARGET.p99,
    };
  } finally {
    await topo.stop();
    await sim.close();
  }
}

await runBenchmark("mesh-latency", bench);
