/**
 * `npm run bench:capacity`: how many concurrent streaming turns one 2-core box holds at model speed.
 * The model simulator runs in its own process at 50 tokens/s with a 200 ms time to first token and
 * 30 s replies (`BENCH_CAPACITY_REPLY_S`); every thread always runs a turn. For each step N (fresh
 * processes each time) N threads on up to 100 WebSocket connections start their turns spread over one
 * reply's length, then start the next turn as soon as one completes; the second reply's length is the
 * measured window (steady state, N turns streaming), after which no new turns start and the running
 * ones finish. Per step: first-delta overhead (turn/start sent to first delta received, minus the
 * simulated time to first token) of the turns started in the window, the inter-delta gap of every
 * thread as the client sees it, deltas produced and delivered with every turn's text checked, refused
 * turns (-32001, with retryAfterMs) and errors, CPU, RSS, µs of CPU and read / write system calls per
 * delivered delta of every process, and the event-loop lag of the Threadmesh processes. A step passes
 * with p99 first-delta overhead ≤ 100 ms, p99 inter-delta gap ≤ 100 ms, every delta delivered and no
 * error or refusal.
 *
 * Environment: BENCH_CAPACITY_TOPOLOGIES (embedded,distributed), BENCH_CAPACITY_EMBEDDED_STEPS,
 * BENCH_CAPACITY_DISTRIBUTED_STEPS (comma-separated N), BENCH_CAPACITY_REPLY_S (30),
 * BENCH_CAPACITY_ALL_STEPS=1 (go on past a failed step), BENCH_CAPACITY_COMPARE (settings of the code
 * before a lever, e.g. `THREADMESH_DELTA_LINGER_MS=0`: each step runs with them first, then without, and
 * both are recorded). Results: bench/results/capacity.json.
 *
 * Overload (BENCH_CAPACITY_OVERLOAD=10): per topology, the capacity N is taken from
 * BENCH_CAPACITY_BASE_N (`100`, or per topology `embedded=125,distributed=100`) or found by the ramp
 * first; then 10×N threads offer streaming turns the same way, each retrying a refused turn after its
 * retryAfterMs. Recorded: lease lapses and takeovers, turns by final status, refusals by reason and
 * with/without retryAfterMs and how fast they were answered, -32603 and other errors, turn/start
 * answers that took longer than 10 s (timeouts), the first-delta overhead of the admitted turns, and
 * deltas delivered against produced with every admitted turn's text checked. The step passes with no
 * lapse or takeover, every admitted turn completed whole, every refusal carrying retryAfterMs, and no
 * error or timeout. Results of an overload run (its ramp steps too, if it ran them) go to
 * bench/results/capacity-overload.json, leaving the ramp's capacity.json as it is.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ThreadmeshProcess, runThreadmesh } from "../test/support/processes.ts";
import { processEnv } from "../test/support/process-env.ts";
import { startNatsServer } from "../test/support/nats-server.ts";
import { createTestDatabase } from "../test/support/postgres.ts";
import { now, pct } from "./support/bench-client.ts";
import { scrapeMetrics } from "./support/metrics-scrape.ts";
import { ProcessSampler, postgresBackends } from "./support/proc-stats.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { MsHistogram, StreamClient, type StreamedTurn } from "./support/stream-client.ts";
import { OverloadTally } from "./support/overload-tally.ts";

type Kind = "embedded" | "distributed";

const steps = (v: string | undefined, d: string) => (v ?? d).split(",").map(Number).filter((n) => n > 0);
const TOPOLOGIES = (process.env.BENCH_CAPACITY_TOPOLOGIES ?? "embedded,distributed").split(",") as Kind[];
const STEPS: Record<Kind, number[]> = {
  embedded: steps(process.env.BENCH_CAPACITY_EMBEDDED_STEPS, "125,250,500,1000,1500"),
  distributed: steps(process.env.BENCH_CAPACITY_DISTRIBUTED_STEPS, "25,50,100,250,500,1000"),
};
const REPLY_S = Number(process.env.BENCH_CAPACITY_REPLY_S ?? 30);
const ALL_STEPS = process.env.BENCH_CAPACITY_ALL_STEPS === "1";
const COMPARE: Record<string, string> | null = process.env.BENCH_CAPACITY_COMPARE
  ? Object.fromEntries(process.env.BENCH_CAPACITY_COMPARE.split(",").map((kv) => kv.split("=") as [string, string]))
  : null;
const OVERLOAD = Number(process.env.BENCH_CAPACITY_OVERLOAD ?? 0);
const BASE_N: Partial<Record<Kind, number>> = (() => {
  const v = process.env.BENCH_CAPACITY_BASE_N;
  if (!v) return {};
  if (/^\d+$/.test(v)) return { embedded: Number(v), distributed: Number(v) };
  return Object.fromEntries(v.split(",").map((kv) => kv.split("=")).map(([k, n]) => [k, Number(n)]));
})();
/** A turn/start answered later than this counts as a timeout, in ms. */
const TIMEOUT_MS = 10_000;
/** A turn/start still unanswered after this is given up on (and counted as a timeout), in ms. */
const UNANSWERED_MS = 30_000;
const TOKENS_PER_S = 50;
const TTFT_MS = 200;
const MAX_CONNECTIONS = 100;
const DELTAS_PER_TURN = Math.round(REPLY_S * TOKENS_PER_S);
const TARGET_MS = { firstDeltaP99: 100, gapP99: 100 };
/** Longest wait for the turns running when the window ends, beyond one reply, in ms. */
const FINISH_GRACE_MS = 60_000;

interface Deployment {
  url: string;
  token: string;
  /** Processes to sample, by name. */
  pids: Record<string, () => number[]>;
  /** Metrics endpoints of the Threadmesh processes, by name. */
  metrics: Record<string, string>;
  stop(): Promise<void>;
}

const metricsLine = /metrics on (\S+)\/metrics/;

/** The model simulator in a process of its own. */
async function startSim(): Promise<{ proc: ThreadmeshProcess; url: string }> {
  const proc = ThreadmeshProcess.spawn("model-sim", ["model-sim"], { THREADMESH_SIM_PORT: "0" });
  const url = (await proc.waitForLine(/model-sim listening on (\S+)/))[1]!;
  return { proc, url };
}

async function deploy(kind: Kind, simUrl: string, extraEnv: Record<string, string>): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), `tm-capacity-${kind}-`));
  const token = randomBytes(16).toString("hex");
  const env: Record<string, string> = {
    ...processEnv({ simUrl, token, workspaceRoot: join(dir, "workspaces") }),
    THREADMESH_LOG_LEVEL: "warn",
    // Consecutive deltas of one item that reach a router in one batch go out as one frame at this load.
    THREADMESH_JOIN_DELTAS: "true",
    // The mesh is measured, not the credit waterfall or the per-tenant caps.
    THREADMESH_ADMISSION: "false",
    THREADMESH_MAX_THREADS_PER_TENANT: "100000",
    // Turns are bounded by the host's event-loop lag only: a step past capacity shows as refusals.
    THREADMESH_MAX_TURNS: "0",
    ...extraEnv,
  };
  if (kind === "embedded") {
    const dev = ThreadmeshProcess.spawn("dev", ["dev", "--port", "0"], { ...env, DATABASE_URL: `sqlite:${join(dir, "threadmesh.db")}` });
    const url = (await dev.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    const metrics = (await dev.waitForLine(metricsLine))[1]!;
    return {
      url,
      token,
      pids: { dev: () => [dev.child.pid!] },
      metrics: { dev: metrics },
      async stop() {
        await dev.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const nats = await startNatsServer({ jetstream: true });
  const db = await createTestDatabase();
  if (!nats || !db) throw new Error("the distributed topology needs nats-server and PostgreSQL");
  const denv = { ...env, DATABASE_URL: db.url, NATS_URL: nats.url };
  const started: ThreadmeshProcess[] = [];
  let host: ThreadmeshProcess, router: ThreadmeshProcess, url: string, hostMetrics: string, routerMetrics: string;
  try {
    const migrated = await runThreadmesh(["migrate"], denv);
    if (migrated.code !== 0) throw new Error(`threadmesh migrate failed: ${migrated.stderr}`);
    host = ThreadmeshProcess.spawn("host", ["host"], denv);
    started.push(host);
    await host.waitForLine(/session host \S+ ready/);
    hostMetrics = (await host.waitForLine(metricsLine))[1]!;
    router = ThreadmeshProcess.spawn("router", ["router", "--port", "0"], denv);
    started.push(router);
    url = (await router.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    routerMetrics = (await router.waitForLine(metricsLine))[1]!;
  } catch (err) {
    // A deployment that did not come up leaves nothing running (a NATS server left over keeps the run alive).
    await Promise.all(started.map((p) => p.stop().catch(() => {})));
    await nats.stop();
    await db.drop();
    throw err;
  }
  const dbName = new URL(db.url).pathname.slice(1);
  return {
    url,
    token,
    pids: { router: () => [router.child.pid!], host: () => [host.child.pid!], nats: () => [nats.pid], postgres: () => postgresBackends(dbName) },
    metrics: { router: routerMetrics, host: hostMetrics },
    async stop() {
      await Promise.all([router.stop(), host.stop()]);
      await nats.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Event-loop lag of a Threadmesh process since the previous scrape (prom-client resets it on each). */
async function loopLag(url: string): Promise<{ p99Ms: number; maxMs: number }> {
  const m = await scrapeMetrics(url);
  return { p99Ms: Number((m.sum("nodejs_eventloop_lag_p99_seconds") * 1000).toFixed(1)), maxMs: Number((m.sum("nodejs_eventloop_lag_max_seconds") * 1000).toFixed(1)) };
}

async function script(simUrl: string, key: string, chunks: string[][]): Promise<void> {
  const responses = chunks.map((text) => ({ output: [{ type: "message", text }], ttftMs: TTFT_MS, chunkDelayMs: 1000 / TOKENS_PER_S }));
  const res = await fetch(`${simUrl}/_sim/script`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, responses }) });
  if (!res.ok) throw new Error(`scripting the simulator answered ${res.status}: ${await res.text()}`);
}

/** The words of one reply: short, distinct per thread and turn, nothing JSON escapes. */
function replyChunks(tag: string): string[] {
  return Array.from({ length: DELTAS_PER_TURN }, (_, i) => ` ${tag}${i.toString(36)}`);
}

interface ThreadLoad {
  client: StreamClient;
  threadId: string;
  replies: string[][];
  started: number;
}

async function step(run: BenchRun, kind: Kind, n: number, extraEnv: Record<string, string> = {}, overloadOf = 0): Promise<Record<string, unknown>> {
  const sim = await startSim();
  const d = await deploy(kind, sim.url, extraEnv).catch(async (err: unknown) => {
    await sim.proc.stop();
    throw err;
  });
  const gaps = new MsHistogram();
  let measuring = false;
  const sinks = { gaps, measuring: () => measuring };
  const clients: StreamClient[] = [];
  try {
    const conns = Math.min(n, MAX_CONNECTIONS);
    for (let i = 0; i < conns; i++) clients.push(await StreamClient.connect(d.url, d.token, sinks));
    const threads: ThreadLoad[] = new Array(n);
    // Threads are opened one at a time per connection, the connections side by side.
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = c; i < n; i += conns) {
          const threadId = (await client.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
          // Three replies: the ramp's, the window's, and one to spare for a turn that started early.
          const replies = [0, 1, 2].map((k) => replyChunks(`${i.toString(36)}x${k}`));
          await script(sim.url, threadId, replies);
          threads[i] = { client, threadId, replies, started: 0 };
        }
      }),
    );
    const sampler = new ProcessSampler({ ...d.pids, "model-sim": () => [sim.proc.child.pid!], loadgen: () => [process.pid] });
    const replyMs = REPLY_S * 1000;
    const t0 = now();
    const windowStart = t0 + replyMs;
    const windowEnd = windowStart + replyMs;
    const measured: StreamedTurn[] = [];
    const all: StreamedTurn[] = [];
    const errors: string[] = [];
    let refused = 0;
    let refusedWithoutRetry = 0;
    const tally = new OverloadTally();
    const keepStreaming = async (t: ThreadLoad, delayMs: number): Promise<void> => {
      await new Promise((r) => setTimeout(r, delayMs));
      while (now() < windowEnd && t.started < t.replies.length) {
        const startedAt = now();
        const r = await Promise.race([t.client.startTurn(t.threadId, t.replies[t.started]!), new Promise<null>((res) => setTimeout(res, UNANSWERED_MS, null).unref())]);
        if (r === null) {
          tally.unanswered();
          if (errors.length < 20) errors.push(`turn/start unanswered after ${UNANSWERED_MS} ms`);
          return;
        }
        const answeredMs = now() - startedAt;
        tally.answered(answeredMs, "error" in r ? r.error : null);
        if ("error" in r) {
          if (r.error.code === -32001) {
            refused++;
            const retry = Number(r.error.data?.retryAfterMs);
            if (!(retry > 0)) refusedWithoutRetry++;
            await new Promise((res) => setTimeout(res, retry > 0 ? retry : 1000));
          } else {
            if (errors.length < 20) errors.push(`${r.error.code} ${r.error.message}`);
            return;
          }
          continue;
        }
        t.started++;
        all.push(r.turn);
        if (startedAt >= windowStart) measured.push(r.turn);
        await r.turn.done;
      }
    };
    const lagUrls = Object.entries(d.metrics);
    await Promise.all(lagUrls.map(([, u]) => loopLag(u)));
    const streaming = threads.map((t, i) => keepStreaming(t, (i * replyMs) / n));
    const rssTimer = setInterval(() => sampler.sample(), 1000);
    // The window: every thread streams (started during the ramp) until the window ends.
    await new Promise((r) => setTimeout(r, windowStart - now()));
    const charsAtStart = all.reduce((s, t) => s + t.offset, 0);
    await Promise.all(lagUrls.map(([, u]) => loopLag(u)));
    sampler.begin();
    measuring = true;
    await new Promise((r) => setTimeout(r, windowEnd - now()));
    measuring = false;
    const usage = sampler.end();
    const lag = Object.fromEntries(await Promise.all(lagUrls.map(async ([name, u]) => [name, await loopLag(u)] as const)));
    const hostUrl = d.metrics.host ?? d.metrics.dev!;
    const charsInWindow = all.reduce((s, t) => s + t.offset, 0) - charsAtStart;
    clearInterval(rssTimer);
    // No new turns now; the running ones finish.
    const finished = await Promise.race([Promise.all(streaming).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), replyMs + FINISH_GRACE_MS))]);
    if (!finished) errors.push("turns still running long after the window ended");
    const hostMetrics = await scrapeMetrics(hostUrl);
    const lease = { lapses: hostMetrics.sum("tm_host_lease_lapses_total"), takeovers: hostMetrics.sum("tm_host_lease_takeovers_total") };
    if (lease.lapses > 0 || lease.takeovers > 0) errors.push(`lease: ${lease.lapses} lapse(s), ${lease.takeovers} takeover(s)`);
    // Deltas: produced for every started turn; delivered = chunks whose text arrived whole and in order.
    const produced = all.length * DELTAS_PER_TURN;
    let delivered = 0;
    let frames = 0;
    let wholeTurns = 0;
    const statuses: Record<string, number> = {};
    for (const t of all) {
      frames += t.frames;
      statuses[t.status ?? "running"] = (statuses[t.status ?? "running"] ?? 0) + 1;
      if (t.whole) {
        wholeTurns++;
        delivered += t.chunks;
      } else if (t.textExact) delivered += Math.floor((t.offset / t.expected.length) * t.chunks);
    }
    const firstDelta = measured.filter((t) => t.firstAt > 0).map((t) => t.firstAt - t.sentAt - TTFT_MS);
    const avgChunkChars = all.length > 0 ? all[0]!.expected.length / all[0]!.chunks : 1;
    const deltasInWindow = Math.round(charsInWindow / avgChunkChars);
    const cpu = Object.fromEntries(
      Object.entries(usage).map(([name, u]) => {
        const per = (v: number, digits: number) => (deltasInWindow > 0 ? Number((v / deltasInWindow).toFixed(digits)) : null);
        return [name, { cores: u.cores, peakRssMb: u.peakRssMb, microsPerDelta: per(u.cpuMicros, 1), readsPerDelta: per(u.reads, 3), writesPerDelta: per(u.writes, 3) }];
      }),
    );
    const fd = firstDelta.length > 0 ? { p50: pct(firstDelta, 50), p99: pct(firstDelta, 99), max: Number(Math.max(...firstDelta).toFixed(1)) } : null;
    const gap = { p50: gaps.pct(50), p99: gaps.pct(99), max: Number(gaps.max.toFixed(1)) };
    const overload = overloadOf > 0 ? { ...tally.summary(TIMEOUT_MS), admittedTurns: all.length, offeredThreads: n, baseN: overloadOf } : undefined;
    const pass = overload
      ? lease.lapses === 0 &&
        lease.takeovers === 0 &&
        all.every((t) => t.status === "completed") &&
        delivered === produced &&
        wholeTurns === all.length &&
        refusedWithoutRetry === 0 &&
        errors.length === 0 &&
        overload.timeouts === 0
      : fd !== null && fd.p99 <= TARGET_MS.firstDeltaP99 && gap.p99 <= TARGET_MS.gapP99 && delivered === produced && wholeTurns === all.length && errors.length === 0 && refused === 0;
    const result = {
      n,
      settings: extraEnv,
      connections: conns,
      turnsStarted: all.length,
      turnsMeasured: measured.length,
      firstDeltaOverheadMs: fd,
      interDeltaGapMs: gap,
      deltas: { produced, delivered, frames, perSecondInWindow: Math.round(deltasInWindow / REPLY_S), textExactTurns: wholeTurns },
      turnStatuses: statuses,
      refused,
      refusedWithoutRetryAfter: refusedWithoutRetry,
      errors,
      unexpectedDeltas: clients.reduce((s, c) => s + c.unexpectedDeltas, 0),
      processes: cpu,
      eventLoopLagMs: lag,
      lease,
      ...(overload ? { overload } : {}),
      pass,
    };
    console.log(`${kind} N=${n} ${JSON.stringify(extraEnv)}: ${JSON.stringify(result)}`);
    if (delivered !== produced) run.missTarget(`${kind} N=${n}: ${delivered} of ${produced} deltas delivered`);
    if (!pass) run.missTarget(`${kind} N=${n}${overloadOf > 0 ? ` (${n / overloadOf}× overload)` : ""}: step missed its targets`);
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await d.stop();
    await sim.proc.stop();
  }
}

await runBenchmark(OVERLOAD > 0 ? "capacity-overload" : "capacity", async (run) => {
  const topologies: Record<string, unknown> = {};
  for (const kind of TOPOLOGIES) {
    const results: Array<Record<string, unknown>> = [];
    for (const n of BASE_N[kind] !== undefined && OVERLOAD > 0 ? [] : STEPS[kind]) {
      // The code before the lever first, on fresh processes, then the code as it is.
      if (COMPARE !== null) results.push({ ...(await step(run, kind, n, COMPARE)), before: true });
      const r = await step(run, kind, n);
      results.push(r);
      if (!r.pass && !ALL_STEPS) break;
    }
    const passing = results.filter((r) => r.pass && !r.before).map((r) => r.n as number);
    const capacityN = BASE_N[kind] ?? (passing.length > 0 ? Math.max(...passing) : 0);
    topologies[kind] = { capacityN, steps: results };
    if (OVERLOAD > 0 && capacityN > 0) {
      (topologies[kind] as Record<string, unknown>).overload = await step(run, kind, Math.round(capacityN * OVERLOAD), {}, capacityN);
    }
  }
  return {
    model: { tokensPerSecond: TOKENS_PER_S, ttftMs: TTFT_MS, replySeconds: REPLY_S, deltasPerTurn: DELTAS_PER_TURN },
    targetsMs: TARGET_MS,
    ...(OVERLOAD > 0 ? { overloadFactor: OVERLOAD, baseN: BASE_N } : {}),
    topologies,
  };
});
