/**
 * `npm run bench:admission`: latency of the admission decision of the credit waterfall (burst →
 * concurrency → plan windows → grants → purchased credits, with the reservation recorded), in both
 * topologies: embedded (SQLite file behind the in-memory mirror, which decides from memory and writes
 * the reservation behind the answer; in-memory burst limiter) and distributed (PostgreSQL, where a
 * decision is one read and one conditional write; burst counts in a redis-server spawned for the run,
 * with the insurance limiter). Tenants have a plan with both
 * windows, a grant and purchased credits, so every admission walks every stage. Each decision is timed
 * alone (one at a time, `admitSequential`) and with 8 in flight (`admitConcurrent8`); each admitted round
 * is then settled with usage and its turn ended (`settle` timed too). Every admission must be admitted
 * and, at the end, every tenant's ledgers must reconcile, or the run is recorded as failed.
 *
 * The distributed decision is measured twice: straight on the store (what a host does without a slice,
 * and what the first turn of a user on a host does), and through the host's budget slices
 * (`distributedSliced`: rounds decided in memory from a slice of the tenant's budget, a user's next turn
 * on the slot its last one left as the host's spare; settlement charges the slice in the store).
 *
 * Then the cost of admission on a turn, from outside: for each topology two deployments run side by
 * side on the same model simulator, one with admission on and one with THREADMESH_ADMISSION=false, and
 * turns alternate between them (one at a time), timed from the client's turn/start to the model
 * request's arrival at the simulator, and from the end of the model's stream to turn/completed (which
 * now waits for the round's settlement). Distributed hosts count burst limits in a redis-server spawned
 * for the run. The tenant's plan is not unlimited and has windows, a grant
 * and purchased credits, so admission walks every stage; every turn must complete.
 * Results go to bench/results/admission.json.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openCreditStore, openTenantStore } from "@threadmesh/persistence";
import { Admission, BurstLimiter, PriceTable, SlicedCreditStore, WriteBehindCreditStore, type CreditStore, type Plan } from "@threadmesh/ratelimit";
import { testPlan } from "../test/support/plans.ts";
import { createTestDatabase } from "../test/support/postgres.ts";
import { startRedisServer } from "../test/support/redis-server.ts";
import { startTopology, type Topology, type TopologyKind } from "../test/support/topology.ts";
import { BenchClient, summary } from "./support/bench-client.ts";
import { deadline } from "./support/deadline.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";

const TENANTS = 20;
const WARMUP = 500;
const SEQUENTIAL = Number(process.env.BENCH_ADMISSIONS ?? 5_000);
const CONCURRENT = SEQUENTIAL;
const IN_FLIGHT = 8;
const MODEL = "bench-model";
const PRICES = new PriceTable({ [MODEL]: { inputPerMillion: 1_250_000, cachedInputPerMillion: 125_000, outputPerMillion: 10_000_000 } });
const PLAN: Plan = testPlan("bench", {
  // Small windows so rounds spill over into grants and credits: every stage does work.
  primary: { windowMins: 300, budget: 50_000 },
  secondary: { windowMins: 10_080, budget: 200_000 },
  maxTurnsPerTenant: 64,
  maxTurnsPerUser: 64,
  burstPerKey: 1_000_000,
  burstPerTenant: 1_000_000,
});

const TURNS = Number(process.env.BENCH_ADMISSION_TURNS ?? 200);
const WARMUP_TURNS = Number(process.env.BENCH_ADMISSION_WARMUP_TURNS ?? 20);
const TURN_TIMEOUT_MS = 60_000;

/** A deployment of `kind` with admission on or off, its tenant on {@link PLAN} with credits, and a client holding the tenant's key. */
async function deployment(sim: ModelSim, kind: TopologyKind, admission: boolean, redisUrl: string | null): Promise<{ topo: Topology; client: BenchClient; threadId: string }> {
  const redis: Record<string, string> = redisUrl === null ? {} : { THREADMESH_REDIS_URL: redisUrl };
  // Turn shedding and the hosts' lag check are off: on a shared machine, other work's load would shed the
  // run's own turns, one at a time, and these figures are the credit waterfall's.
  const overload = { THREADMESH_SHEDDING: "false", THREADMESH_TURN_LAG_BUDGET_MS: "0" };
  const topo = await startTopology(kind, { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn", THREADMESH_ADMISSION: String(admission), THREADMESH_MODEL: MODEL, THREADMESH_ADMIN_PORT: "0", ...overload, ...redis } });
  if (topo === null) throw new Error(`services for the ${kind} topology are missing`);
  const credits = await openCreditStore({ url: topo.databaseUrl, migrate: false });
  const tenants = await openTenantStore({ url: topo.databaseUrl, migrate: false });
  let key: string;
  try {
    await credits.putPlan({ ...PLAN, maxTurnsPerTenant: 4, maxTurnsPerUser: 4 });
    await tenants.createTenant({ id: "bench", name: "Bench", plan: PLAN.id });
    const now = Date.now();
    await credits.topUp("bench", 1_000_000_000_000, "bench-credits", now);
    await credits.addGrant("bench", { id: "bench-grant", amount: 100_000_000, expiresAtMs: now + 86_400_000 }, now);
    key = (await tenants.createApiKey({ tenantId: "bench", name: "bench", userId: "bench-user" })).secret;
  } finally {
    await Promise.all([credits.close(), tenants.close()]);
  }
  const client = await BenchClient.connect(topo.url, key);
  const threadId = (await client.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
  return { topo, client, threadId };
}

interface TurnTimes {
  turnStartToModelRequestMs: ReturnType<typeof summary>;
  streamEndToTurnCompletedMs: ReturnType<typeof summary>;
}

/** Alternates 5-delta turns between the deployment with admission on and the one with it off. */
async function turnOverhead(run: BenchRun, kind: TopologyKind): Promise<{ on: TurnTimes; off: TurnTimes; p50DeltaMs: number }> {
  const sim = await startModelSim({ port: 0 });
  // Distributed hosts count burst limits in Redis, as deployed.
  const redisServer = kind === "distributed" ? await startRedisServer() : null;
  if (kind === "distributed" && redisServer === null) throw new Error("redis-server not found");
  const redisUrl = redisServer === null ? null : `redis://127.0.0.1:${redisServer.port}`;
  const sides: Array<{ label: "on" | "off"; d: Awaited<ReturnType<typeof deployment>>; toModel: number[]; toCompleted: number[] }> = [];
  try {
    for (const label of ["on", "off"] as const) sides.push({ label, d: await deployment(sim, kind, label === "on", redisUrl), toModel: [], toCompleted: [] });
    for (const side of sides) {
      sim.script(side.d.threadId, Array.from({ length: TURNS + WARMUP_TURNS }, (_, i) => ({ output: [{ type: "message" as const, text: ["a", "b", "c", "d", `${i}`] }], usage: { inputTokens: 400, outputTokens: 5 } })));
    }
    for (let i = 0; i < TURNS + WARMUP_TURNS; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const req = new Promise<number>((r) => sim.once("request", (e) => r(e.receivedAt)));
        const end = new Promise<number>((r) => sim.once("streamEnd", (e) => r(e.at)));
        const t = await side.d.client.turn(side.d.threadId, `turn ${i}`);
        const [reqAt, endAt, doneAt] = await deadline(Promise.all([req, end, t.completedAt]), TURN_TIMEOUT_MS, `${kind} admission ${side.label} turn ${i}`);
        run.count(`${kind} admission ${side.label} turns`, 1, 1);
        if (i >= WARMUP_TURNS) {
          side.toModel.push(reqAt - t.sentAt);
          side.toCompleted.push(doneAt - endAt);
        }
      }
    }
    for (const side of sides) {
      const completed = side.d.client.turnStatuses.completed ?? 0;
      if (completed !== TURNS + WARMUP_TURNS) run.fail(`${kind} admission ${side.label}: ${completed} of ${TURNS + WARMUP_TURNS} turns completed (${side.d.client.turnErrors.slice(0, 2).join("; ")})`);
    }
    const [on, off] = sides.map((s) => ({ turnStartToModelRequestMs: summary(s.toModel), streamEndToTurnCompletedMs: summary(s.toCompleted) })) as [TurnTimes, TurnTimes];
    return { on, off, p50DeltaMs: Number((on.turnStartToModelRequestMs.p50 - off.turnStartToModelRequestMs.p50).toFixed(3)) };
  } finally {
    for (const side of sides) {
      await side.d.client.close();
      await side.d.topo.stop();
    }
    await sim.close();
    await redisServer?.kill();
  }
}

interface Figures {
  admitSequential: ReturnType<typeof summary>;
  admitConcurrent8: ReturnType<typeof summary>;
  settle: ReturnType<typeof summary>;
  admissions: number;
}

async function measure(run: BenchRun, label: string, store: CreditStore, burst: BurstLimiter): Promise<Figures> {
  await store.putPlan(PLAN);
  const now = Date.now();
  for (let t = 0; t < TENANTS; t++) {
    await store.topUp(`tenant-${t}`, 1_000_000_000_000, "bench-credits", now);
    await store.addGrant(`tenant-${t}`, { id: "bench-grant", amount: 100_000_000, expiresAtMs: now + 86_400_000 }, now);
  }
  const admission = new Admission({ store, prices: PRICES, burst });
  let seq = 0;
  const settleTimes: number[] = [];
  const one = async (times: number[] | null): Promise<void> => {
    const n = seq++;
    const tenantId = `tenant-${n % TENANTS}`;
    const turnId = `${label}-turn-${n}`;
    const started = performance.now();
    const r = await admission.admit({ kind: "turnStart", tenantId, userId: `user-${n % 3}`, keyId: "bench-key", planId: PLAN.id, turnId, round: 0, model: MODEL, inputTokens: 4_000, maxOutputTokens: 1_000 });
    const took = performance.now() - started;
    run.count(`${label} admissions`, 1, r.admitted ? 1 : 0);
    if (!r.admitted) {
      run.fail(`${label}: ${turnId} refused: ${r.refusal.message}`);
      return;
    }
    times?.push(took);
    const s0 = performance.now();
    await admission.settle({ tenantId, userId: `user-${n % 3}`, planId: PLAN.id, turnId, round: 0, model: MODEL, usage: { inputTokens: 4_000, cachedInputTokens: 1_000, outputTokens: 300 } });
    if (times !== null) settleTimes.push(performance.now() - s0);
    await admission.endTurn(tenantId, turnId);
  };
  for (let i = 0; i < WARMUP; i++) await one(null);
  const sequential: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) await one(sequential);
  const concurrent: number[] = [];
  let left = CONCURRENT;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left-- > 0) await one(concurrent);
    }),
  );
  if (store instanceof SlicedCreditStore) await store.returnAll();
  for (const report of await store.reconcile()) {
    if (!report.ok) run.fail(`${label}: ${report.tenantId} does not reconcile: ${report.problems.slice(0, 3).join("; ")}`);
  }
  return { admitSequential: summary(sequential), admitConcurrent8: summary(concurrent), settle: summary(settleTimes), admissions: sequential.length + concurrent.length };
}

await runBenchmark("admission", async (run) => {
  // Embedded: SQLite file behind the in-memory mirror, memory burst limiter.
  const dir = await mkdtemp(join(tmpdir(), "tm-bench-admission-"));
  let embedded: Figures;
  const sqlite = new WriteBehindCreditStore(await openCreditStore({ url: `sqlite:${join(dir, "credits.db")}` }), {
    onWriteError: (err) => run.fail(`embedded: queued write failed: ${String(err)}`),
  });
  try {
    embedded = await measure(run, "embedded", sqlite, new BurstLimiter());
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }

  // Distributed: PostgreSQL, Redis burst counts with the insurance limiter.
  const db = await createTestDatabase();
  if (db === null) throw new Error("PostgreSQL unreachable");
  const redisServer = await startRedisServer();
  if (redisServer === null) throw new Error("redis-server not found");
  const redis = new Redis({ host: "127.0.0.1", port: redisServer.port, enableOfflineQueue: false, lazyConnect: true });
  redis.on("error", (err) => run.fail(`redis: ${err.message}`));
  let distributed: Figures;
  let distributedSliced: Figures;
  const pg = await openCreditStore({ url: db.url });
  try {
    await redis.connect();
    distributed = await measure(run, "distributed", pg, new BurstLimiter({ redis }));
    // As session hosts admit: rounds from the host's budget slices, a user's next turn on its spare slot.
    const sliced = new SlicedCreditStore(pg, { hostId: "bench", onError: (err, op) => run.fail(`distributed sliced: ${op} failed: ${String(err)}`) });
    distributedSliced = await measure(run, "distributed sliced", sliced, new BurstLimiter({ redis }));
  } finally {
    await pg.close();
    redis.disconnect();
    await redisServer.kill();
    await db.drop();
  }
  const turnOverheadEmbedded = await turnOverhead(run, "embedded");
  const turnOverheadDistributed = await turnOverhead(run, "distributed");
  return {
    unit: "ms",
    tenants: TENANTS,
    embedded,
    distributed,
    distributedSliced,
    turns: TURNS,
    turnOverhead: { embedded: turnOverheadEmbedded, distributed: turnOverheadDistributed },
    targets: { embeddedP99Ms: 1, distributedP99Ms: 3, turnStartToModelRequestP50DeltaMs: 0.5, distributedTurnOverheadP50Ms: 5 },
    met: {
      embedded: embedded.admitSequential.p99 <= 1,
      distributed: distributed.admitSequential.p99 <= 3,
      distributedSliced: distributedSliced.admitSequential.p99 <= 3,
      turnStartToModelRequestDeltaEmbedded: turnOverheadEmbedded.p50DeltaMs <= 0.5,
      turnStartToModelRequestDeltaDistributed: turnOverheadDistributed.p50DeltaMs <= 0.5,
      distributedTurnOverhead:
        turnOverheadDistributed.on.turnStartToModelRequestMs.p50 <= 5 && turnOverheadDistributed.on.streamEndToTurnCompletedMs.p50 <= 5,
    },
  };
});
