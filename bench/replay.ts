/**
 * `npm run bench:replay`: time to resume with `afterSeq` after a gap of exactly GAP (1,000) events.
 * Distributed topology (1 router, 1 host, nats-server with JetStream, PostgreSQL). Each measured resume
 * opens a fresh connection (connect and `initialize` untimed), sends `thread/resume {threadId, afterSeq:
 * lastSeq − GAP}` and stops the clock when the last replayed event (seq = lastSeq) arrives. Every
 * resume must report `replay.recovered: true` and deliver exactly seqs afterSeq+1 … lastSeq once each,
 * in order, or the bench fails. Target: p99 ≤ 200 ms.
 *
 * Batching decides how many stream messages the gap is, so three threads are measured:
 * - `batched`: one turn of DELTAS deltas streamed as fast as possible (many deltas per bus message);
 * - `unbatched`: the same turn paced at 1 ms per delta, so nearly every delta is its own message;
 * - `fullWindow`: unbatched, after enough earlier turns that the thread fills its replay window
 *   (10,000 messages by default): the read has the most to skip before the gap.
 * Besides the end-to-end figure each scenario reports where the time goes: the plain resume (no
 * `afterSeq`), a direct read of the event log (the same JetStreamEventLog.read the router does) and
 * the time to the resume response. The turns that fill each thread are audited like every benchmark's
 * (each completes; its deltas, concatenated, equal the completed item's text and the text the model
 * sent), and every resume must deliver its GAP events: a run that lost anything is recorded as failed,
 * without figures, and exits non-zero. Results go to bench/results/replay.json.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { seqRange } from "@threadmesh/mesh";
import { JetStreamEventLog } from "@threadmesh/mesh/nats";
import { BenchClient, frameSeq, now, summary } from "./support/bench-client.ts";
import { type Cluster } from "../test/support/cluster.ts";
import { requireCluster } from "./support/require-cluster.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";

const GAP = 1_000;
const RESUMES = Math.max(1, Number(process.env.BENCH_REPLAY_RESUMES ?? 60));
const WARMUP = Number(process.env.BENCH_REPLAY_WARMUP ?? 5);
const DELTAS = Number(process.env.BENCH_REPLAY_DELTAS ?? 2_000);
/** Samples of the profile measurements (plain resume, direct log read). */
const PROFILE_SAMPLES = Number(process.env.BENCH_REPLAY_PROFILE_SAMPLES ?? 20);
/** Tenant of a bearer-token client. */
const TENANT = "default";
const TARGET_P99_MS = 200;
/** After the last replayed event, how long to keep listening for a duplicate before closing (untimed). */
const DUPLICATE_GRACE_MS = 30;
/** Thread events are settled once no new seq arrived for this long after turn/completed. */
const SETTLE_MS = 500;

interface Scenario {
  name: string;
  /** Delay between deltas, ms; 0 streams as fast as possible. */
  chunkDelayMs: number;
  /** Turns streamed before the measured one (same size), to fill the window. */
  historyTurns: number;
}

const SCENARIOS: Scenario[] = [
  { name: "batched", chunkDelayMs: 0, historyTurns: 0 },
  { name: "unbatched", chunkDelayMs: 1, historyTurns: 0 },
  { name: "fullWindow", chunkDelayMs: 1, historyTurns: 4 },
].filter((s) => !process.env.BENCH_REPLAY_SCENARIOS || process.env.BENCH_REPLAY_SCENARIOS.split(",").includes(s.name));

const words = (n: number, turn: number): string[] => Array.from({ length: n }, (_, i) => `${i === 0 ? "" : " "}t${turn}w${i}`);

/** Streams the scenario's turns on a new thread; returns it and the last seq the driver saw. */
async function prepareThread(run: BenchRun, sim: ModelSim, url: string, token: string, s: Scenario): Promise<{ threadId: string; lastSeq: number }> {
  let lastSeq = 0;
  let lastAt = 0;
  const driver = await BenchClient.connect(url, token, {
    onNotification: (f) => {
      const q = frameSeq(f);
      if (q > lastSeq) lastSeq = q;
      lastAt = performance.now();
    },
  });
  try {
    const threadId = (await driver.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
    const turns = s.historyTurns + 1;
    const answers = Array.from({ length: turns }, (_, t) => words(DELTAS, t));
    sim.script(
      threadId,
      answers.map((text) => ({ output: [{ type: "message" as const, text }], chunkDelayMs: s.chunkDelayMs })),
    );
    for (let t = 0; t < turns; t++) {
      const turn = await driver.turn(threadId, `turn ${t}`);
      run.audit.expect(turn.turnId, { threadId, chunks: answers[t]! });
      await turn.completedAt;
      run.audit.observe(driver.auditFrames(), [turn.turnId]);
    }
    while (performance.now() - lastAt < SETTLE_MS) await sleep(50);
    return { threadId, lastSeq };
  } finally {
    await driver.close();
  }
}

interface ResumeSample {
  responseMs: number;
  lastEventMs: number;
}

/** One resume on a fresh connection, verified; throws when the replay is not exactly the gap. */
async function resumeOnce(run: BenchRun, url: string, token: string, threadId: string, lastSeq: number): Promise<ResumeSample> {
  const afterSeq = lastSeq - GAP;
  const seqs: number[] = [];
  let sentAt = 0;
  let lastEventAt = 0;
  let resolveLast!: () => void;
  const lastArrived = new Promise<void>((r) => (resolveLast = r));
  const c = await BenchClient.connect(url, token, {
    onNotification: (f, at) => {
      const q = frameSeq(f);
      if (q < 0) return;
      seqs.push(q);
      if (q === lastSeq) {
        lastEventAt = at;
        resolveLast();
      }
    },
  });
  try {
    sentAt = now();
    const res = await c.call("thread/resume", { threadId, afterSeq });
    const responseAt = now();
    assert.equal(res.replay?.recovered, true, `resume after ${afterSeq}: replay ${JSON.stringify(res.replay)}`);
    await Promise.race([lastArrived, sleep(10_000).then(() => Promise.reject(new Error(`seq ${lastSeq} never arrived; got ${seqs.length} events`)))]);
    await sleep(DUPLICATE_GRACE_MS);
    run.count("replayed events", GAP, seqs.length);
    const expected = Array.from({ length: GAP }, (_, i) => afterSeq + 1 + i);
    assert.deepEqual(seqs, expected, `resume after ${afterSeq}: not exactly seqs ${afterSeq + 1}…${lastSeq} in order`);
    return { responseMs: responseAt - sentAt, lastEventMs: lastEventAt - sentAt };
  } finally {
    await c.close();
  }
}

async function plainResume(url: string, token: string, threadId: string): Promise<number> {
  const c = await BenchClient.connect(url, token);
  try {
    const t0 = now();
    await c.call("thread/resume", { threadId });
    return now() - t0;
  } finally {
    await c.close();
  }
}

async function scenario(run: BenchRun, sim: ModelSim, topo: Cluster, log: JetStreamEventLog, s: Scenario): Promise<Record<string, unknown>> {
  const url = topo.urls[0]!;
  const { threadId, lastSeq } = await prepareThread(run, sim, url, topo.token, s);
  const afterSeq = lastSeq - GAP;
  const window = await log.read(TENANT, threadId, 0);
  const gapMessages = window.filter((e) => (seqRange(e.headers)?.last ?? 0) > afterSeq).length;
  console.log(`${s.name}: thread ${threadId}, lastSeq ${lastSeq}, window ${window.length} messages, gap of ${GAP} events = ${gapMessages} messages`);

  const samples: ResumeSample[] = [];
  for (let i = 0; i < WARMUP + RESUMES; i++) {
    const r = await resumeOnce(run, url, topo.token, threadId, lastSeq);
    if (i >= WARMUP) samples.push(r);
  }
  const plain: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < PROFILE_SAMPLES; i++) {
    plain.push(await plainResume(url, topo.token, threadId));
    const t0 = performance.now();
    const got = await log.read(TENANT, threadId, afterSeq);
    direct.push(performance.now() - t0);
    assert.equal(got.length, gapMessages);
  }
  const total = summary(samples.map((x) => x.lastEventMs));
  return {
    scenario: s.name,
    chunkDelayMs: s.chunkDelayMs,
    turns: s.historyTurns + 1,
    deltasPerTurn: DELTAS,
    lastSeq,
    afterSeq,
    windowMessages: window.length,
    gapMessages,
    resumes: RESUMES,
    resumeToLastEventMs: total,
    resumeToResponseMs: summary(samples.map((x) => x.responseMs)),
    profile: {
      plainResumeResponseMs: summary(plain),
      eventLogReadMs: summary(direct),
    },
    met: total.p99 <= TARGET_P99_MS,
  };
}

async function bench(run: BenchRun): Promise<Record<string, unknown>> {
  const sim = await startModelSim({ port: 0 });
  const topo = await requireCluster({ simUrl: sim.url, routers: 1, hosts: 1, extraEnv: { THREADMESH_LOG_LEVEL: "warn" } });
  const bus = topo.bus;
  try {
    // Opening it with the defaults the processes use leaves the stream's configuration unchanged.
    const log = await JetStreamEventLog.open(bus.connection);
    const results = [];
    for (const s of SCENARIOS) results.push(await scenario(run, sim, topo, log, s));
    return {
      topology: "distributed (1 router, 1 host)",
      gapEvents: GAP,
      targetP99Ms: TARGET_P99_MS,
      met: results.every((r) => r.met),
      scenarios: results,
    };
  } finally {
    await topo.stop();
    await sim.close();
  }
}

await runBenchmark("replay", bench);
