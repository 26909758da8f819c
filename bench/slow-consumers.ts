/**
 * `npm run bench:slow-consumers`: the router's slow-consumer protection under stalled readers.
 * Distributed topology: 1 router + 1 session host on nats-server (JetStream) and PostgreSQL, the model
 * simulator scripted with every answer. The router's per-connection outbound cap is 256 KiB and its
 * grace period 2 s (see OUTBOUND_ENV), its total cap (64 MiB) the default; THREADMESH_OUTBOUND_* in
 * this process's environment override them.
 *
 * NORMAL_CLIENTS (5) clients each loop turn/start (a streamed answer of NORMAL_DELTAS deltas) then
 * thread/read, then NORMAL_PAUSE_MS, through both measured phases; turn/start → first delta and
 * thread/read latency are kept per phase. Both phases run the same extra load for PHASE seconds:
 * LOAD_CLIENTS (100) more clients each start a thread and a long streaming turn (LOAD_DELTAS deltas of
 * LOAD_DELTA_BYTES characters, one every LOAD_DELTA_MS), and driver connections go on starting the
 * next turn of each thread; the only difference between the phases is whether those clients read.
 *
 * 1. Baseline (the same run without stalled clients): the 100 load clients read their sockets. Once
 *    the phase ends the drivers stop, the threads' last turns end (each load client must have seen its
 *    thread's seqs without a gap) and the load clients close.
 * 2. Stall: 100 fresh load clients, same load, stop reading their socket (the TCP socket is paused) as
 *    soon as their first turn has started. The normal clients' p99 here is compared with the baseline.
 *
 * In both phases the router's RSS (/proc/<pid>/status VmRSS) is sampled every second, with its outbound
 * bytes and 1013 closes from its metrics listener; the RSS targets apply to the stall phase.
 *
 * 3. Resume: every stalled socket is read again. A client closed with 1013 reads the afterSeq of its
 *    close reason, reconnects and sends thread/resume with it and excludeTurns (again if it is shed
 *    again); a client whose connection ended without a close frame (1006) resumes after the last seq
 *    it received. Its events must continue its seq without a gap or a repeat, and the deltas it got
 *    before and after, joined, must equal each turn's completed text and the text the model sent (the
 *    delivery audit). Reported apart: closes the router counted and close frames the clients read.
 * 4. Fast reader: one client reads one turn of FAST_DELTAS (20,000) deltas streamed as fast as the
 *    simulator can; every delta must arrive (merged frames count by their text).
 *
 * A load thread runs up to LOAD_TURNS turns of LOAD_DELTAS × LOAD_DELTA_BYTES (600 KB) each: its client
 * starts the first, a driver connection that reads (DRIVERS of them, each following a share of the
 * threads) starts each next one. One turn's answer stays under 1 MB because an item, a turn/completed
 * and a thread/resume response each travel the bus as one NATS message (nats-server's max_payload is
 * 1 MB); several turns are needed to fill the kernel's socket buffers (about 1.6 MB per paused loopback
 * connection here) and the router's cap behind them. The router also pings every 30 s and
 * terminates a peer that missed the previous pong, so a paused client is dropped (1006) 30–60 s after
 * it connected: to be shed with 1013 first it must pass the kernel's buffers, the cap and the grace
 * period before that. At 60 KB/s (6 MB/s for the 100 threads) it passes them after about 30 s, so the
 * grace period is 2 s here (THREADMESH_OUTBOUND_GRACE_MS overrides it); whichever close comes first,
 * the last 30 s of an 80 s phase show the RSS once the stalled clients are gone.
 *
 * Targets (each missed one fails the run, with its figures kept): router RSS during the stall < 200 MB
 * and flat (least-squares slope over the last 30 s of the stall within ±FLAT_MB_PER_S); the normal
 * clients' p99 during the stall ≤ 2× their p99 in the baseline (first delta and thread/read); every
 * resumed stalled client gapless with its exact text; the fast turn fully delivered.
 * Results: bench/results/slow-consumers.json.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { startModelSim, type ModelSim, type SimResponse } from "@threadmesh/model-sim";
import { BenchClient, frameSeq, now, summary } from "./support/bench-client.ts";
import { observeDelivered, scriptedChunks } from "./support/delivery-audit.ts";
import { scrapeMetrics } from "./support/metrics-scrape.ts";
import { requireCluster } from "./support/require-cluster.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { deadline } from "./support/deadline.ts";

const envNumber = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const NORMAL_CLIENTS = envNumber("BENCH_SLOW_NORMAL_CLIENTS", 5);
const NORMAL_DELTAS = envNumber("BENCH_SLOW_NORMAL_DELTAS", 200);
/** Pause of a normal client between two loops (a client at work, not a load generator). */
const NORMAL_PAUSE_MS = envNumber("BENCH_SLOW_NORMAL_PAUSE_MS", 100);
/** Length of each measured phase (baseline and stall), from the moment its load clients start. */
const PHASE_S = envNumber("BENCH_SLOW_PHASE_SECONDS", 80);
const LOAD_CLIENTS = envNumber("BENCH_SLOW_LOAD_CLIENTS", 100);
const LOAD_DELTAS = envNumber("BENCH_SLOW_LOAD_DELTAS", 50);
const LOAD_DELTA_BYTES = envNumber("BENCH_SLOW_LOAD_DELTA_BYTES", 12_000);
const LOAD_DELTA_MS = envNumber("BENCH_SLOW_LOAD_DELTA_MS", 200);
/**
 * Turns a load thread runs: the client starts the first, a driver connection of the benchmark (which
 * reads) starts each next one when the last has completed, while the phase lasts.
 */
const LOAD_TURNS = envNumber("BENCH_SLOW_LOAD_TURNS", 9);
const FAST_DELTAS = envNumber("BENCH_SLOW_FAST_DELTAS", 20_000);
/** Stalled clients resuming at once. */
const RESUME_CONCURRENCY = envNumber("BENCH_SLOW_RESUME_CONCURRENCY", 10);
/** Times one stalled client may be shed again while it catches up before the run fails. */
const MAX_RESUMES = 5;
/**
 * The router's outbound limits for the run. The per-connection cap is 256 KiB rather than the 1 MiB
 * default: one agentMessage item travels the bus as one NATS message and must stay under nats-server's
 * 1 MB max_payload, so a stalled turn's answer is kept at 600 KB, which could not pass a 1 MiB cap. The
 * grace period is 2 s rather than 10 s so that a stalled client is shed before the router's ping
 * timeout drops it (see the header).
 */
const OUTBOUND_ENV: Record<string, string> = {
  THREADMESH_OUTBOUND_MAX_BYTES: process.env.THREADMESH_OUTBOUND_MAX_BYTES ?? String(256 * 1024),
  THREADMESH_OUTBOUND_GRACE_MS: process.env.THREADMESH_OUTBOUND_GRACE_MS ?? "2000",
  ...(process.env.THREADMESH_OUTBOUND_TOTAL_MAX_BYTES ? { THREADMESH_OUTBOUND_TOTAL_MAX_BYTES: process.env.THREADMESH_OUTBOUND_TOTAL_MAX_BYTES } : {}),
};
const RSS_TARGET_MB = 200;
/** |slope| of the router's RSS over the last 30 s of the stall that counts as flat. */
const FLAT_MB_PER_S = 0.1;
const SLOPE_WINDOW_S = 30;
const P99_FACTOR = 2;
const TURN_TIMEOUT_MS = 60_000;
const DELTA_PREFIX = '{"method":"item/agentMessage/delta"';
const TURN_COMPLETED_PREFIX = '{"method":"turn/completed"';
/** Driver connections of a phase, each following a share of its load threads. */
const DRIVERS = envNumber("BENCH_SLOW_DRIVERS", 10);
const FIRST_SEQ_KEY = '"firstSeq":';
const THREAD_ID_KEY = '"threadId":"';

const mb = (x: number) => Number(x.toFixed(1));

/** Resident set size of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The seqs one frame stands for: `[firstSeq ?? seq, seq]`; null for a frame without a seq. */
function seqRange(s: string): [number, number] | null {
  const last = frameSeq(s);
  if (last < 0) return null;
  const i = s.lastIndexOf(FIRST_SEQ_KEY);
  if (i < 0) return [last, last];
  const first = Number.parseInt(s.slice(i + FIRST_SEQ_KEY.length), 10);
  return Number.isFinite(first) ? [first, last] : [last, last];
}

/**
 * One notification's seqs as a connection received it. `thread` is the thread the frame names
 * (`params.threadId`, or `params.thread.id` of `thread/started`); null for a frame that names none
 * (`account/rateLimits/updated` is a broadcast of whichever thread's turn ended).
 */
interface SeqEntry {
  first: number;
  last: number;
  thread: string | null;
}

/** The seqs and thread of one notification frame; null for a frame without a seq. */
function seqEntry(s: string): SeqEntry | null {
  const r = seqRange(s);
  if (r === null) return null;
  let thread: string | null = null;
  const i = s.indexOf(THREAD_ID_KEY);
  if (i >= 0) thread = s.slice(i + THREAD_ID_KEY.length, s.indexOf('"', i + THREAD_ID_KEY.length));
  else if (s.startsWith('{"method":"thread/started"')) thread = /"thread":\{"id":"([^"]+)"/.exec(s)?.[1] ?? null;
  return { first: r[0], last: r[1], thread };
}

/**
 * Gaps and repeats in the seqs of `threadId` as received, and the first of them. A frame that names
 * no thread fills a hole only where it arrived, between the two frames of the thread around it.
 */
function seqBreaks(entries: readonly SeqEntry[], threadId: string): { gaps: number; repeats: number; first?: string } {
  let gaps = 0;
  let repeats = 0;
  let first: string | undefined;
  let prev: number | null = null;
  let between = new Set<number>();
  for (const e of entries) {
    if (e.thread === null) {
      between.add(e.first);
      continue;
    }
    if (e.thread !== threadId) continue;
    if (prev !== null) {
      let want = prev + 1;
      while (want < e.first && between.has(want)) want++;
      if (e.first > want) gaps++;
      else if (e.first < want) repeats++;
      if (e.first !== want) first ??= `after seq ${prev} came ${e.first}…${e.last}`;
    }
    prev = e.last;
    between = new Set();
  }
  return { gaps, repeats, first };
}

/** `n` distinct chunks of `bytes` characters each (the tag and index first, so each is findable). */
function bigChunks(n: number, tag: string, bytes: number): string[] {
  return scriptedChunks(n, tag).map((c) => c + ".".repeat(Math.max(0, bytes - c.length)));
}

/** A connection that records the seqs of its notifications and tells when a turn has completed. */
async function tracingClient(url: string, token: string, keepFrames = true): Promise<{ c: BenchClient; seqs: SeqEntry[]; completed: Set<string>; onCompleted: (turnId: string) => Promise<void> }> {
  const seqs: SeqEntry[] = [];
  const completed = new Set<string>();
  const waiters = new Map<string, () => void>();
  const c = await BenchClient.connect(url, token, {
    keepFrames,
    onNotification: (s) => {
      const e = seqEntry(s);
      if (e) seqs.push(e);
      if (s.startsWith(TURN_COMPLETED_PREFIX)) {
        const id = JSON.parse(s).params.turn.id as string;
        completed.add(id);
        waiters.get(id)?.();
      }
    },
  });
  const onCompleted = (turnId: string) => (completed.has(turnId) ? Promise.resolve() : new Promise<void>((r) => waiters.set(turnId, r)));
  return { c, seqs, completed, onCompleted };
}

/** The phase a normal client's loop ran in: "between" (the baseline's load winding down) is kept by neither. */
type Phase = "baseline" | "between" | "stall" | "after";

/** thread/read requests of the normal clients answered with an error, with the phase they were sent in. */
const readErrors: string[] = [];
/** turn/start requests of the normal clients answered with an error (the client stopped there). */
const turnErrors: string[] = [];
/** turn/start requests of the drivers answered with an error (the thread's chain stopped there). */
const driverErrors: string[] = [];

interface Sample {
  phase: Phase;
  firstDeltaMs: number;
  readMs: number;
}

/** A normal client: turn/start (streamed answer), then thread/read, until `stop()`; one sample per loop. */
async function normalClient(run: BenchRun, sim: ModelSim, url: string, token: string, index: number, phase: () => Phase, samples: Sample[]): Promise<void> {
  let onFirst: ((at: number) => void) | null = null;
  const c = await BenchClient.connect(url, token, {
    onNotification: (s, at) => {
      if (onFirst !== null && s.startsWith(DELTA_PREFIX)) {
        onFirst(at);
        onFirst = null;
      }
    },
  });
  try {
    const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
    for (let n = 0; phase() !== "after"; n++) {
      const chunks = scriptedChunks(NORMAL_DELTAS, `n${index}t${n}`);
      sim.script(threadId, [{ output: [{ type: "message", text: chunks }] }]);
      const started = phase();
      const first = new Promise<number>((r) => (onFirst = r));
      // A turn/start answered with an error (an overloaded host's timeout) may still start the turn and
      // take the scripted answer: the client stops there, counted, rather than misread later answers.
      const t = await c.turn(threadId, `turn ${n}`).catch((err: Error) => (turnErrors.push(`normal client ${index}, ${started}: ${err.message}`), null));
      run.count("normal turn/start answered", 1, t === null ? 0 : 1);
      if (t === null) return;
      run.audit.expect(t.turnId, { threadId, chunks });
      const [firstAt] = await deadline(Promise.all([first, t.completedAt]), TURN_TIMEOUT_MS, `normal client ${index} turn ${n}`);
      observeDelivered(run.audit, [{ client: c, turnId: t.turnId }]);
      const r0 = now();
      // An unanswered read is counted (and fails the run) without stopping the client.
      const read = await c.call("thread/read", { threadId }).then(
        () => true,
        (err: Error) => (readErrors.push(`${started}: ${err.message}`), false),
      );
      const readMs = now() - r0;
      run.count("thread/read answered", 1, read ? 1 : 0);
      if (!read) continue;
      // A loop that spans a phase change belongs to neither phase.
      if (phase() === started) samples.push({ phase: started, firstDeltaMs: firstAt - t.sentAt, readMs });
      await sleep(NORMAL_PAUSE_MS);
    }
  } finally {
    await c.close();
  }
}

interface Stalled {
  index: number;
  c: BenchClient;
  seqs: SeqEntry[];
  completed: Set<string>;
  onCompleted: (turnId: string) => Promise<void>;
  threadId: string;
  /** The answer the model streams for each turn, in order. */
  chunks: string[][];
  /** The thread's turns, in order: the client's own, then those its driver started. */
  turns: string[];
  /** turn/start requests of the driver answered with a turn id already seen (joined to a turn instead of starting one). */
  joined: number;
  /** Resolves when the driver has stopped starting turns and the last one has completed; with the error that stopped it, if one did (an overloaded host answers turn/start with a timeout, and may still start the turn). */
  chained: Promise<Error | null>;
}

type Tracing = Awaited<ReturnType<typeof tracingClient>>;

/** What became of one stalled client once it read its socket again, and of its resume. */
interface StalledOutcome {
  /** Turns its thread ran (chained while it did not read). */
  turns: number;
  /** Driver turn/starts answered with an earlier turn's id. */
  joined: number;
  closeCode: number | null;
  /** Cursor named by the 1013 close reason. */
  afterSeq: number | null;
  /** Last seq received before the close. */
  lastSeqBeforeClose: number | null;
  resumes: number;
  gaps: number;
  repeats: number;
  /** The first gap or repeat, when there was one. */
  firstBreak?: string;
  replayRecovered: boolean | null;
  /** Deltas before + after joined equal the completed text and the model's text. */
  textExact: boolean;
  /** Delta frames read from the stalled socket, and after resuming (merged frames count once). */
  deltaFramesBefore: number;
  deltaFramesAfter: number;
}

/** Whether a phase's drivers go on starting turns of its load threads. */
interface Chaining {
  on: boolean;
}

/**
 * One load client: a thread streaming LOAD_TURNS scripted turns, the first started by the client, each
 * next by `driver`. A stalled client (`stall`) stops reading its socket once its first turn has started
 * and keeps its frames for the audit; a reading client keeps only its seqs.
 */
async function loadClient(url: string, token: string, sim: ModelSim, driver: Tracing, index: number, stall: boolean, chaining: Chaining): Promise<Stalled> {
  const t = await tracingClient(url, token, stall);
  const threadId = (await t.c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
  const chunks = Array.from({ length: LOAD_TURNS }, (_, k) => bigChunks(LOAD_DELTAS, `${stall ? "s" : "r"}${index}t${k}`, LOAD_DELTA_BYTES));
  sim.script(
    threadId,
    chunks.map((text): SimResponse => ({ chunkDelayMs: LOAD_DELTA_MS, output: [{ type: "message", text }] })),
  );
  const first = await t.c.turn(threadId, "stream a long answer");
  if (stall) t.c.pause();
  // A thread can be resumed once it has a turn; the first lasts seconds, so the driver sees it end.
  await driver.c.call("thread/resume", { threadId });
  const turns = [first.turnId];
  const client: Stalled = { index, ...t, threadId, chunks, turns, joined: 0, chained: Promise.resolve(null) };
  client.chained = (async () => {
    await driver.onCompleted(first.turnId);
    while (chaining.on && turns.length < LOAD_TURNS) {
      const next = await driver.c.turn(threadId, "go on");
      if (turns.includes(next.turnId)) {
        client.joined++;
        break;
      }
      turns.push(next.turnId);
      await driver.onCompleted(next.turnId);
    }
    return null;
  })().catch((err: Error) => err);
  return client;
}

/** A phase's load: its clients (reading or stalled), the drivers that chain their turns, and the switch that stops them. */
interface Load {
  clients: Stalled[];
  drivers: Tracing[];
  chaining: Chaining;
  /** Seconds from the phase's start until every load client had started its first turn. */
  startedAfterS: number;
}

async function startLoad(run: BenchRun, url: string, token: string, sim: ModelSim, stall: boolean, t0: number): Promise<Load> {
  const chaining: Chaining = { on: true };
  const drivers = await Promise.all(Array.from({ length: Math.max(1, DRIVERS) }, () => tracingClient(url, token, false)));
  const clients = await pool(
    Array.from({ length: LOAD_CLIENTS }, (_, i) => i),
    20,
    (i) => loadClient(url, token, sim, drivers[i % drivers.length]!, i, stall, chaining),
  );
  run.count(`${stall ? "stalled" : "reading"} load clients started`, LOAD_CLIENTS, clients.length);
  return { clients, drivers, chaining, startedAfterS: Number(((now() - t0) / 1000).toFixed(1)) };
}

/**
 * Ends the baseline's load: the drivers stop, each thread's last turn ends and its reading client must
 * have seen it complete with the thread's seqs gapless; then every load connection closes.
 */
async function endReadingLoad(load: Load): Promise<{ clients: number; turns: number; lastTurnSeen: number; gapless: number; firstBreak?: string }> {
  load.chaining.on = false;
  const budget = LOAD_DELTAS * LOAD_DELTA_MS + TURN_TIMEOUT_MS;
  const errors = await deadline(Promise.all(load.clients.map((c) => c.chained)), budget, "baseline load: the drivers' last turns did not end");
  errors.forEach((e, i) => e && driverErrors.push(`reading load client ${i}: ${e.message}`));
  const seen = await Promise.all(
    load.clients.map((c) =>
      deadline(c.onCompleted(c.turns.at(-1)!), TURN_TIMEOUT_MS, `reading load client ${c.index}: its last turn's completion`).then(
        () => true,
        () => false,
      ),
    ),
  );
  let gapless = 0;
  let firstBreak: string | undefined;
  for (const c of load.clients) {
    const b = seqBreaks(c.seqs, c.threadId);
    if (b.gaps === 0 && b.repeats === 0) gapless++;
    else firstBreak ??= `reading load client ${c.index}: ${b.first}`;
  }
  await Promise.all([...load.clients.map((c) => c.c.close()), ...load.drivers.map((d) => d.c.close())]);
  return {
    clients: load.clients.length,
    turns: load.clients.reduce((n, c) => n + c.turns.length, 0),
    lastTurnSeen: seen.filter(Boolean).length,
    gapless,
    ...(firstBreak ? { firstBreak } : {}),
  };
}

interface RssSample {
  s: number;
  mb: number;
  outboundMb: number;
  closes1013: number;
}

/** Samples the router's RSS, outbound bytes and 1013 closes (since `closes0`) every second from `t0` until `stop()`. */
function rssSampler(metricsUrl: string, pid: number, t0: number, closes0: number, progress: () => string): { samples: RssSample[]; stop: () => Promise<void> } {
  const samples: RssSample[] = [];
  let on = true;
  const loop = (async (): Promise<Error | null> => {
    while (on) {
      const m = await scrapeMetrics(metricsUrl);
      samples.push({
        s: Number(((now() - t0) / 1000).toFixed(1)),
        mb: mb(rssMb(pid)),
        outboundMb: mb(m.sum("tm_router_outbound_bytes") / 2 ** 20),
        closes1013: m.sum("tm_router_slow_consumer_closes_total") - closes0,
      });
      const x = samples.at(-1)!;
      if (samples.length % 5 === 0)
        console.log(
          `${x.s} s: router RSS ${x.mb} MB, outbound ${x.outboundMb} MB, 1013 closes ${x.closes1013}, event-loop lag ${(m.sum("nodejs_eventloop_lag_seconds") * 1000).toFixed(0)} ms, connections ${m.sum("tm_router_connections")}; ${progress()}`,
        );
      await sleep(1000 - ((now() - t0) % 1000));
    }
    return null;
  })().catch((err: Error) => err);
  return {
    samples,
    stop: async () => {
      on = false;
      const err = await loop;
      if (err) throw err;
    },
  };
}

/** Peak, end and least-squares slope over the last SLOPE_WINDOW_S of a phase's RSS samples. */
function rssFigures(samples: readonly RssSample[]): { peakMb: number; endMb: number; slopeLast30sMbPerS: number } {
  const last = samples.at(-1)!;
  const tail = samples.filter((x) => x.s >= last.s - SLOPE_WINDOW_S);
  const k = slope(
    tail.map((x) => x.s),
    tail.map((x) => x.mb),
  );
  return { peakMb: Math.max(...samples.map((x) => x.mb)), endMb: last.mb, slopeLast30sMbPerS: Number(k.toFixed(4)) };
}

/** Reads a stalled client's socket again; when it was closed, resumes its thread until its last turn has completed. */
async function settleStalled(run: BenchRun, url: string, token: string, s: Stalled): Promise<StalledOutcome> {
  // Drivers have stopped chaining: the thread's last turn is known and has ended.
  const chainError = await deadline(s.chained, LOAD_DELTAS * LOAD_DELTA_MS + TURN_TIMEOUT_MS, `stalled client ${s.index}: its driver's last turn did not end`);
  if (chainError) driverErrors.push(`stalled client ${s.index}: ${chainError.message}`);
  const last = s.turns.at(-1)!;
  const budget = LOAD_DELTAS * LOAD_DELTA_MS + TURN_TIMEOUT_MS;
  s.c.resume();
  const ended = await deadline(
    Promise.race([s.c.closeEvent.then((e) => ({ closed: e })), s.onCompleted(last).then(() => ({ closed: null }))]),
    budget,
    `stalled client ${s.index}: neither closed nor saw its last turn complete`,
  );
  const out: StalledOutcome = {
    turns: s.turns.length,
    joined: s.joined,
    closeCode: ended.closed?.code ?? null,
    afterSeq: null,
    lastSeqBeforeClose: lastSeqOf(s.seqs, s.threadId),
    resumes: 0,
    gaps: 0,
    repeats: 0,
    replayRecovered: null,
    textExact: false,
    deltaFramesBefore: 0,
    deltaFramesAfter: 0,
  };
  const frames = s.c.auditFrames();
  out.deltaFramesBefore = frames.filter((f) => f.method === "item/agentMessage/delta").length;
  const seqs = [...s.seqs];
  let closed = ended.closed;
  if (closed === null) await s.c.close();
  while (closed !== null) {
    // 1013 names the cursor; a connection that ended otherwise resumes after the last seq it got.
    const named = closed.code === 1013 ? /afterSeq=(\d+)/.exec(closed.reason) : null;
    if (closed.code === 1013 && named === null) throw new Error(`stalled client ${s.index}: 1013 without a cursor: ${closed.reason}`);
    const afterSeq = named ? Number(named[1]) : (lastSeqOf(seqs, s.threadId) ?? 0);
    if (out.afterSeq === null && named) out.afterSeq = afterSeq;
    if (++out.resumes > MAX_RESUMES) throw new Error(`stalled client ${s.index}: shed ${out.resumes} times while resuming`);
    const r = await tracingClient(url, token);
    const res = await r.c.call("thread/resume", { threadId: s.threadId, afterSeq, excludeTurns: true });
    out.replayRecovered = (out.replayRecovered ?? true) && res.replay?.recovered === true;
    const next = await deadline(
      Promise.race([r.c.closeEvent.then((e) => ({ closed: e })), r.onCompleted(last).then(() => ({ closed: null }))]),
      budget,
      `stalled client ${s.index}: resumed thread neither closed nor showed its last turn complete`,
    );
    seqs.push(...r.seqs);
    const after = r.c.auditFrames();
    out.deltaFramesAfter += after.filter((f) => f.method === "item/agentMessage/delta").length;
    frames.push(...after);
    closed = next.closed;
    if (closed === null) await r.c.close();
  }
  const b = seqBreaks(seqs, s.threadId);
  out.gaps = b.gaps;
  out.repeats = b.repeats;
  if (b.first) out.firstBreak = b.first;
  if (out.afterSeq !== null && out.lastSeqBeforeClose !== out.afterSeq) {
    out.gaps++;
    out.firstBreak ??= `closed after seq ${out.lastSeqBeforeClose} with afterSeq=${out.afterSeq}`;
  }
  // Every turn the client saw, its own and its driver's (a turn/start answered with a timeout may still
  // have started one): each is checked against the answer its text names (`s<client>t<k>w0…`).
  const seen = new Set(s.turns);
  for (const f of frames) if (f.method === "turn/completed") seen.add(String(f.params.turn.id));
  const answerOf = new Map<string, number>();
  for (const f of frames) {
    if (f.method !== "item/completed" || f.params.item?.type !== "agentMessage") continue;
    const k = /^s\d+t(\d+)w0/.exec(String(f.params.item.text))?.[1];
    if (k !== undefined) answerOf.set(String(f.params.turnId), Number(k));
  }
  const turnIds = [...seen];
  turnIds.forEach((turnId, i) => run.audit.expect(turnId, { threadId: s.threadId, chunks: s.chunks[answerOf.get(turnId) ?? i] ?? s.chunks[0]! }));
  out.turns = turnIds.length;
  const ds = run.audit.observe(frames, turnIds);
  out.textExact = ds.length === turnIds.length && ds.every((d) => d.textExact);
  return out;
}

/** The last seq of `threadId` among `entries`. */
function lastSeqOf(entries: readonly SeqEntry[], threadId: string): number | null {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.thread === threadId) return entries[i]!.last;
  return null;
}

/** Runs `fn` over `xs` with at most `n` at once. */
async function pool<T, R>(xs: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i]!);
      }
    }),
  );
  return out;
}

async function bench(run: BenchRun): Promise<Record<string, unknown>> {
  // Request bodies of a stalled thread carry its whole history (megabytes): keep only the last of each.
  const sim = await startModelSim({ port: 0, maxRequestsPerKey: 1 });
  const modelRequests = new Map<string, number>();
  sim.on("request", (e) => modelRequests.set(e.key, (modelRequests.get(e.key) ?? 0) + 1));
  // Shedding off: the 105 long turns run above the hosts' shedding threshold, and this measures what the
  // router does with readers that stop, not which turns it refuses.
  const topo = await requireCluster({ simUrl: sim.url, routers: 1, hosts: 1, extraEnv: { THREADMESH_LOG_LEVEL: "warn", THREADMESH_SHEDDING: "false", ...OUTBOUND_ENV } });
  const url = topo.url;
  const token = topo.token;
  const metricsUrl = topo.metricsUrls[0]!;
  const pid = topo.router.child.pid!;
  try {
    let phase: Phase = "baseline";
    const samples: Sample[] = [];
    const normals = Array.from({ length: NORMAL_CLIENTS }, (_, i) => normalClient(run, sim, url, token, i, () => phase, samples));
    const normalsDone = Promise.all(normals);
    normalsDone.catch(() => {});
    const rssAtStart = rssMb(pid);
    const closesTotal = async () => (await scrapeMetrics(metricsUrl)).sum("tm_router_slow_consumer_closes_total");

    // Baseline: the load clients read; sampled from the moment they start.
    const tb = now();
    const progress = () => `normal loops: ${samples.length}, load ${(os.loadavg()[0] ?? 0).toFixed(2)}, benchmark RSS ${mb(process.memoryUsage().rss / 2 ** 20)} MB`;
    const baselineRss = rssSampler(metricsUrl, pid, tb, await closesTotal(), () => `baseline, ${progress()}`);
    const reading = await startLoad(run, url, token, sim, false, tb);
    await Promise.race([sleep(Math.max(0, PHASE_S * 1000 - (now() - tb))), normalsDone]);
    await baselineRss.stop();
    phase = "between";
    const readingLoad = await endReadingLoad(reading);
    if (readingLoad.gapless !== readingLoad.clients) run.fail(`reading load clients: ${readingLoad.gapless} of ${readingLoad.clients} gapless; ${readingLoad.firstBreak}`);
    run.count("reading load clients saw their last turn complete", readingLoad.clients, readingLoad.lastTurnSeen);
    console.log(`baseline: router RSS peak ${rssFigures(baselineRss.samples).peakMb} MB; load ended with ${readingLoad.turns} turns`);
    const readingStartedAfterS = reading.startedAfterS;
    // The baseline's threads, their scripted answers and seqs are done with: let them go.
    reading.clients.length = 0;
    const rssBeforeStall = rssMb(pid);
    const m0 = await scrapeMetrics(metricsUrl);

    // Stall: the same load, its clients stalled; sampled from the moment they start.
    phase = "stall";
    const t0 = now();
    const stallRss = rssSampler(metricsUrl, pid, t0, m0.sum("tm_router_slow_consumer_closes_total"), () => `stall, ${progress()}`);
    const stalledLoad = await startLoad(run, url, token, sim, true, t0);
    const stalled = stalledLoad.clients;
    await Promise.race([sleep(Math.max(0, PHASE_S * 1000 - (now() - t0))), normalsDone]);
    await stallRss.stop();
    stalledLoad.chaining.on = false;
    phase = "after";
    await normalsDone;
    const m1 = await scrapeMetrics(metricsUrl);
    const rss = stallRss.samples;

    console.log(
      `stall: router RSS peak ${Math.max(...rss.map((x) => x.mb))} MB, end ${rss.at(-1)?.mb} MB, outbound peak ${Math.max(...rss.map((x) => x.outboundMb))} MB, 1013 closes ${rss.at(-1)?.closes1013}`,
    );

    // Resume.
    const outcomes = await pool(stalled, RESUME_CONCURRENCY, (s) => settleStalled(run, url, token, s));
    for (const [i, o] of outcomes.entries()) if (o.firstBreak || !o.textExact) console.log(`stalled client ${i}: ${JSON.stringify(o)}`);
    console.log(`resume: ${outcomes.filter((o) => o.closeCode === 1013).length} of ${outcomes.length} stalled clients were closed with 1013`);
    const m2 = await scrapeMetrics(metricsUrl);
    await Promise.all(stalledLoad.drivers.map((d) => d.c.close()));

    // Fast reader.
    const fast = await BenchClient.connect(url, token);
    const fastThread = (await fast.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
    const fastChunks = scriptedChunks(FAST_DELTAS, "fast");
    sim.script(fastThread, [{ output: [{ type: "message", text: fastChunks }] }]);
    const coalescedBefore = (await scrapeMetrics(metricsUrl)).sum("tm_router_outbound_coalesced_total");
    const ft = await fast.turn(fastThread, "stream fast");
    run.audit.expect(ft.turnId, { threadId: fastThread, chunks: fastChunks });
    const fastDone = await deadline(ft.completedAt, TURN_TIMEOUT_MS * 2, "fast reader turn");
    const fastSeconds = (fastDone - ft.sentAt) / 1000;
    const fastDelivery = observeDelivered(run.audit, [{ client: fast, turnId: ft.turnId }]);
    const fastCoalesced = (await scrapeMetrics(metricsUrl)).sum("tm_router_outbound_coalesced_total") - coalescedBefore;
    await fast.close();

    for (const e of [...turnErrors.slice(0, 3), ...driverErrors.slice(0, 3)]) run.fail(`turn/start answered with an error: ${e}`);
    for (const e of readErrors.slice(0, 3)) run.fail(`thread/read answered with an error: ${e}`);

    // Figures.
    const of = (p: Phase) => samples.filter((x) => x.phase === p);
    const base = of("baseline");
    const during = of("stall");
    if (base.length === 0 || during.length === 0) throw new Error(`normal clients gave ${base.length} baseline and ${during.length} stall samples`);
    const lat = (xs: Sample[]) => ({ samples: xs.length, firstDeltaMs: summary(xs.map((x) => x.firstDeltaMs)), threadReadMs: summary(xs.map((x) => x.readMs)) });
    const baseline = lat(base);
    const stall = lat(during);
    const stallRssFigures = rssFigures(rss);
    const peak = stallRssFigures.peakMb;
    const slopeMbPerS = stallRssFigures.slopeLast30sMbPerS;
    // When the last of the phase's 1013 closes happened: the slope window should start after it.
    const closesAtEnd = rss.at(-1)!.closes1013;
    const lastShedAtS = closesAtEnd > 0 ? rss.find((x) => x.closes1013 === closesAtEnd)!.s : null;
    const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : null);
    const closed1013 = outcomes.filter((o) => o.closeCode === 1013);
    const closedOther = outcomes.filter((o) => o.closeCode !== null && o.closeCode !== 1013);
    const otherCodes: Record<string, number> = {};
    for (const o of closedOther) otherCodes[String(o.closeCode)] = (otherCodes[String(o.closeCode)] ?? 0) + 1;
    const resumed = outcomes.filter((o) => o.resumes > 0);
    const resumedGapless = resumed.filter((o) => o.gaps === 0 && o.repeats === 0 && o.replayRecovered === true);
    const resumedExact = resumed.filter((o) => o.textExact);
    const notClosed = outcomes.filter((o) => o.closeCode === null);
    const shedByCause = m2.byLabel("tm_router_slow_consumer_closes_total", "cause");
    const shedByCause0 = m0.byLabel("tm_router_slow_consumer_closes_total", "cause");
    for (const k of Object.keys(shedByCause)) shedByCause[k] = shedByCause[k]! - (shedByCause0[k] ?? 0);

    const targets = {
      rssBelow200Mb: peak < RSS_TARGET_MB,
      rssFlat: Math.abs(slopeMbPerS) <= FLAT_MB_PER_S,
      firstDeltaP99Within2x: stall.firstDeltaMs.p99 <= P99_FACTOR * baseline.firstDeltaMs.p99,
      threadReadP99Within2x: stall.threadReadMs.p99 <= P99_FACTOR * baseline.threadReadMs.p99,
      resumedGaplessAndExact: resumed.length > 0 && resumedGapless.length === resumed.length && resumedExact.length === resumed.length,
      notClosedGaplessAndExact: notClosed.every((o) => o.gaps === 0 && o.repeats === 0 && o.textExact),
      fastTurnFullyDelivered: fastDelivery.deltas === FAST_DELTAS,
    };
    if (!targets.rssBelow200Mb) run.missTarget(`router RSS peaked at ${mb(peak)} MB (target < ${RSS_TARGET_MB} MB)`);
    if (!targets.rssFlat) run.missTarget(`router RSS slope over the last ${SLOPE_WINDOW_S} s of the stall ${slopeMbPerS.toFixed(3)} MB/s (flat: within ±${FLAT_MB_PER_S})`);
    if (!targets.firstDeltaP99Within2x) run.missTarget(`first-delta p99 during the stall ${stall.firstDeltaMs.p99} ms > ${P99_FACTOR}× baseline ${baseline.firstDeltaMs.p99} ms`);
    if (!targets.threadReadP99Within2x) run.missTarget(`thread/read p99 during the stall ${stall.threadReadMs.p99} ms > ${P99_FACTOR}× baseline ${baseline.threadReadMs.p99} ms`);
    const breaks = outcomes.flatMap((o, i) => (o.firstBreak ? [`stalled client ${i}: ${o.firstBreak}`] : [])).slice(0, 5);
    if (!targets.resumedGaplessAndExact)
      run.fail(
        `resumed stalled clients: ${resumed.length} resumed, ${resumedGapless.length} gapless with a recovered replay, ${resumedExact.length} with the exact text${breaks.length ? `; ${breaks.join("; ")}` : ""}`,
      );
    if (!targets.notClosedGaplessAndExact) run.fail(`stalled clients never closed (${notClosed.length}): some had a seq gap or repeat or inexact text; ${breaks.join("; ")}`);
    if (!targets.fastTurnFullyDelivered) run.fail(`fast reader: ${fastDelivery.deltas} of ${FAST_DELTAS} deltas delivered`);

    return {
      topology: "distributed: 1 router + 1 host, nats-server (JetStream), PostgreSQL",
      comparison:
        "both phases run the same load (LOAD_CLIENTS threads streaming, turns chained by drivers) for the same time; in the baseline the load clients read, in the stall they do not",
      settings: {
        normalClients: NORMAL_CLIENTS,
        normalDeltasPerTurn: NORMAL_DELTAS,
        normalPauseMs: NORMAL_PAUSE_MS,
        phaseSeconds: PHASE_S,
        loadClients: LOAD_CLIENTS,
        loadTurn: {
          deltas: LOAD_DELTAS,
          deltaBytes: LOAD_DELTA_BYTES,
          deltaEveryMs: LOAD_DELTA_MS,
          textMb: mb((LOAD_DELTAS * LOAD_DELTA_BYTES) / 2 ** 20),
          perClientKBPerS: Math.round(LOAD_DELTA_BYTES / LOAD_DELTA_MS),
          maxTurnsChained: LOAD_TURNS,
        },
        fastDeltas: FAST_DELTAS,
        driverConnectionsPerPhase: DRIVERS,
        routerOutbound: {
          maxBytes: Number(OUTBOUND_ENV.THREADMESH_OUTBOUND_MAX_BYTES),
          graceMs: Number(OUTBOUND_ENV.THREADMESH_OUTBOUND_GRACE_MS),
          totalMaxBytes: process.env.THREADMESH_OUTBOUND_TOTAL_MAX_BYTES ?? "default (64 MiB)",
        },
      },
      p99StallOverBaseline: { firstDelta: ratio(stall.firstDeltaMs.p99, baseline.firstDeltaMs.p99), threadRead: ratio(stall.threadReadMs.p99, baseline.threadReadMs.p99) },
      baseline: {
        ...baseline,
        loadClientsStartedAfterS: readingStartedAfterS,
        readingLoad,
        routerRss: { atStartMb: mb(rssAtStart), ...rssFigures(baselineRss.samples), samples: baselineRss.samples },
        routerOutboundPeakMb: Math.max(...baselineRss.samples.map((x) => x.outboundMb)),
        slowConsumerCloses: baselineRss.samples.at(-1)!.closes1013,
      },
      normalReadErrors: { count: readErrors.length, first: readErrors.slice(0, 10) },
      normalTurnStartErrors: { count: turnErrors.length, first: turnErrors.slice(0, 10) },
      driverTurnStartErrors: { count: driverErrors.length, first: driverErrors.slice(0, 10) },
      stall: {
        ...stall,
        loadClientsStartedAfterS: stalledLoad.startedAfterS,
        routerRss: {
          beforeStallMb: mb(rssBeforeStall),
          ...stallRssFigures,
          lastSlowConsumerCloseAtS: lastShedAtS,
          slopeWindowStartsAfterLastClose: lastShedAtS !== null && lastShedAtS <= rss.at(-1)!.s - SLOPE_WINDOW_S,
          samples: rss,
        },
        routerOutboundPeakMb: Math.max(...rss.map((x) => x.outboundMb)),
        slowConsumerClosesDuringStall: m1.sum("tm_router_slow_consumer_closes_total") - m0.sum("tm_router_slow_consumer_closes_total"),
      },
      stalledClients: {
        closeFrame1013Read: closed1013.length,
        closedOtherwiseByCode: otherCodes,
        neverClosed: notClosed.length,
        slowConsumerClosesByCause: shedByCause,
        resumed: resumed.length,
        resumedGapless: resumedGapless.length,
        resumedTextExact: resumedExact.length,
        resumedAfter1013TextExact: closed1013.filter((o) => o.textExact).length,
        resumedAfterOtherCloseTextExact: closedOther.filter((o) => o.textExact).length,
        shedAgainWhileResuming: resumed.filter((o) => o.resumes > 1).length,
        driverTurnStartsJoinedToAnEarlierTurn: outcomes.reduce((n, o) => n + o.joined, 0),
        /** Stalled threads whose model requests differ from their turns (a retry or an extra request shifts the scripted answers). */
        threadsWithModelRequestsOtherThanTurns: stalled.filter((x, i) => (modelRequests.get(x.threadId) ?? 0) !== outcomes[i]!.turns).length,
        turnsPerStalledClient: summary(outcomes.map((o) => o.turns)),
        deltaFramesBeforeClose: summary(outcomes.map((o) => o.deltaFramesBefore)),
        deltaFramesAfterResume: summary(resumed.length > 0 ? resumed.map((o) => o.deltaFramesAfter) : [0]),
        cursorEqualsLastSeqReceived: closed1013.filter((o) => o.afterSeq === o.lastSeqBeforeClose).length,
      },
      fastReader: {
        deltas: fastDelivery.deltas,
        frames: fastDelivery.frames,
        routerCoalesced: fastCoalesced,
        seconds: Number(fastSeconds.toFixed(2)),
        deltasPerSecond: Math.round(fastDelivery.deltas / fastSeconds),
      },
      targets,
      met: Object.values(targets).every(Boolean),
    };
  } finally {
    await topo.stop();
    await sim.close();
  }
}

await runBenchmark("slow-consumers", bench);
