/**
 * `npm run bench:model-sim`: the model simulator alone at model speed. The simulator runs in a process
 * of its own in generative mode (50 tokens/s, 200 ms to first token, replies of
 * `BENCH_SIM_REPLY_S` seconds); a lean load generator (plain sockets, no HTTP parser) keeps
 * `BENCH_SIM_STREAMS` streams open, each asking for the next reply as soon as one ends. After one
 * reply's length of ramp, a window of `BENCH_SIM_WINDOW_S` seconds measures the simulator's CPU (cores
 * and µs per delta written), its RSS, and the gaps between consecutive deltas of a stream as the
 * client reads them (the simulator's pacing under load).
 *
 * Environment: BENCH_SIM_STREAMS (comma-separated counts, default 250,500,1000,1500), BENCH_SIM_REPLY_S
 * (10), BENCH_SIM_WINDOW_S (10), BENCH_SIM_SOURCE (a model-sim `src` directory to measure instead of
 * this checkout's, e.g. a worktree of an earlier commit; its figures are recorded under `before`),
 * BENCH_SIM_NODE_FLAGS (node flags of the simulator's process, e.g. `--cpu-prof --cpu-prof-dir=DIR`).
 * Results: bench/results/model-sim.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { resolve } from "node:path";
import { ProcessSampler } from "./support/proc-stats.ts";
import { runBenchmark } from "./support/run-record.ts";
import { MsHistogram } from "./support/stream-client.ts";

const STREAMS = (process.env.BENCH_SIM_STREAMS ?? "250,500,1000,1500").split(",").map(Number).filter((n) => n > 0);
const REPLY_S = Number(process.env.BENCH_SIM_REPLY_S ?? 10);
const WINDOW_S = Number(process.env.BENCH_SIM_WINDOW_S ?? 10);
const BEFORE = process.env.BENCH_SIM_SOURCE;
const TOKENS_PER_S = 50;
const TTFT_MS = 200;
const OWN_SOURCE = resolve(new URL("../packages/model-sim/src", import.meta.url).pathname);
const DELTA_EVENT = "event: response.output_text.delta\n";
const END_OF_BODY = "\r\n0\r\n\r\n";

/** Starts the simulator from `src` in a child process; resolves with its port. */
async function startSim(src: string): Promise<{ child: ChildProcess; port: number }> {
  const code = `const { startModelSim } = await import(${JSON.stringify(`${src}/index.ts`)});
const sim = await startModelSim({ generative: { tokensPerSecond: ${TOKENS_PER_S}, ttftMs: ${TTFT_MS}, tokensPerResponse: ${REPLY_S * TOKENS_PER_S} } });
process.on("SIGINT", () => process.exit(0));
console.log("sim " + new URL(sim.url).port);`;
  const flags = (process.env.BENCH_SIM_NODE_FLAGS ?? "").split(" ").filter((f) => f.length > 0);
  const child = spawn(process.execPath, [...flags, "--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((ok, fail) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /sim (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.once("exit", (c) => fail(new Error(`simulator exited with ${c}`)));
  });
  return { child, port };
}

/** One client stream: a socket per reply, deltas counted by their event line as the bytes arrive. */
class SimStream {
  deltas = 0;
  replies = 0;
  #socket: Socket | undefined;
  #tail = "";
  #lastAt = 0;
  #stopped = false;

  constructor(
    private readonly port: number,
    private readonly gaps: MsHistogram,
    private readonly measuring: () => boolean,
  ) {}

  start(): void {
    if (this.#stopped) return;
    const body = JSON.stringify({ model: "sim-model", stream: true, input: [{ role: "user", content: [{ type: "input_text", text: "go" }] }], tools: [] });
    const s = connect(this.port, "127.0.0.1");
    s.setNoDelay(true);
    s.setEncoding("latin1");
    this.#socket = s;
    this.#lastAt = 0;
    this.#tail = "";
    s.write(`POST /v1/responses HTTP/1.1\r\nhost: sim\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    s.on("data", (d: string) => this.#data(d));
    s.on("error", () => {});
    s.on("close", () => {
      this.replies++;
      this.start();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.destroy();
  }

  #data(d: string): void {
    const text = this.#tail + d;
    let n = 0;
    for (let i = text.indexOf(DELTA_EVENT); i >= 0; i = text.indexOf(DELTA_EVENT, i + DELTA_EVENT.length)) n++;
    this.#tail = text.slice(-DELTA_EVENT.length + 1);
    // The last chunk of the body: the next reply goes on a new socket.
    if (text.endsWith(END_OF_BODY)) this.#socket?.destroy();
    if (n === 0) return;
    const t = performance.now();
    if (this.#lastAt > 0 && this.measuring()) this.gaps.add(t - this.#lastAt);
    this.#lastAt = t;
    this.deltas += n;
  }
}

async function step(src: string, n: number): Promise<Record<string, unknown>> {
  const sim = await startSim(src);
  const gaps = new MsHistogram();
  let measuring = false;
  const streams = Array.from({ length: n }, () => new SimStream(sim.port, gaps, () => measuring));
  const replyMs = REPLY_S * 1000;
  streams.forEach((s, i) => setTimeout(() => s.start(), (i * replyMs) / n));
  try {
    await new Promise((r) => setTimeout(r, replyMs + 1000));
    const sampler = new ProcessSampler({ "model-sim": () => [sim.child.pid!], loadgen: () => [process.pid] });
    const d0 = streams.reduce((k, s) => k + s.deltas, 0);
    sampler.begin();
    measuring = true;
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    measuring = false;
    const usage = sampler.end();
    const deltas = streams.reduce((k, s) => k + s.deltas, 0) - d0;
    const cpu = Object.fromEntries(Object.entries(usage).map(([name, u]) => [name, { cores: u.cores, peakRssMb: u.peakRssMb, microsPerDelta: Number((u.cpuMicros / deltas).toFixed(1)) }]));
    const result = {
      streams: n,
      deltasPerSecond: Math.round(deltas / WINDOW_S),
      expectedPerSecond: n * TOKENS_PER_S,
      interDeltaGapMs: { p50: gaps.pct(50), p99: gaps.pct(99), max: Number(gaps.max.toFixed(1)) },
      processes: cpu,
    };
    console.log(`model-sim ${src === OWN_SOURCE ? "" : `(${src}) `}N=${n}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const s of streams) s.stop();
    const exited = new Promise((r) => sim.child.once("exit", r));
    // A normal exit, so that a profile asked for in BENCH_SIM_NODE_FLAGS is written.
    if (sim.child.exitCode === null) sim.child.kill("SIGINT");
    await exited;
  }
}

await runBenchmark("model-sim", async () => {
  const steps: Array<Record<string, unknown>> = [];
  for (const n of STREAMS) {
    if (BEFORE !== undefined) steps.push({ ...(await step(resolve(BEFORE), n)), before: true, source: BEFORE });
    steps.push(await step(OWN_SOURCE, n));
  }
  return { model: { tokensPerSecond: TOKENS_PER_S, ttftMs: TTFT_MS, replySeconds: REPLY_S, windowSeconds: WINDOW_S }, steps };
});
