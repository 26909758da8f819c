/**
 * `npm run bench:mesh`: model deltas per second delivered to clients through the mesh, with 1 router ×
 * 1 host and with 2 routers × 2 hosts (each on nats-server with JetStream — the `TM_EVENTS` replay
 * stream captures every event, as it always does on NATS — and PostgreSQL). Client connections are
 * spread evenly over the routers; the router places each new thread on a host. A round starts
 * `concurrent` turns together (each streaming DELTAS_PER_TURN deltas from the model simulator as fast
 * as it can) and is timed from the first turn/start to the last turn/completed; deltas are counted at
 * the clients by frame prefix. Each turn has its own connection by default (a client follows its own
 * thread; BENCH_MESH_CONNECTIONS=10 gives bench/run.ts's 10 connections of 10 busy threads each).
 * Every answer is scripted into the model simulator and every turn is audited: it must complete, and
 * its deltas, concatenated, must equal the completed item's text and the text the model sent; the rate
 * counts only deltas that arrived. A run in which anything was lost is recorded as failed, without
 * figures, and exits non-zero. Reported: the median of ROUNDS rounds after a warm-up round, for 1 turn
 * and for 100 concurrent turns. Target: ≥ 50,000 deltas/s with 100 turns in both shapes. Everything
 * (clients, simulator, routers, hosts, NATS, PostgreSQL) shares one machine, so each 100-turn round
 * also records the CPU time every process used. Results go to bench/results/mesh-throughput.json.
 *
 * The hosts run with the default 3 s lease (BENCH_MESH_LEASE_TTL_MS overrides it). A host whose lease
 * lapsed drops every thread mid-turn; the bench counts lapses and fails on any.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import type { KvOwnerLeases } from "@threadmesh/mesh/nats";
import { BenchClient, now } from "./support/bench-client.ts";
import type { Cluster } from "../test/support/cluster.ts";
import { requireCluster } from "./support/require-cluster.ts";
import { observeDelivered, scriptedChunks } from "./support/delivery-audit.ts";
import { scrapeSum } from "./support/metrics-scrape.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { deadline } from "./support/deadline.ts";

const DELTAS_PER_TURN = Number(process.env.BENCH_DELTAS_PER_TURN ?? 2_000);
const ROUNDS_1 = Math.max(1, Number(process.env.BENCH_MESH_ROUNDS_1 ?? 5));
const ROUNDS_100 = Math.max(1, Number(process.env.BENCH_MESH_ROUNDS_100 ?? 3));
const CONCURRENT = Number(process.env.BENCH_MESH_CONCURRENT ?? 100);
/** Client connections of a round: one per turn up to this many, never fewer than the routers. */
const MAX_CONNECTIONS = Number(process.env.BENCH_MESH_CONNECTIONS ?? 100);
const ROUND_TIMEOUT_MS = 90_000;
const LEASE_TTL_MS = Number(process.env.BENCH_MESH_LEASE_TTL_MS ?? 3_000);
const LAPSE_LINE = "heartbeat lease lapsed";
const TARGET_PER_SECOND = 50_000;
/** Tenant of a bearer-token client. */
const TENANT = "default";
const SHAPES = [
  { routers: 1, hosts: 1 },
  { routers: 2, hosts: 2 },
].filter((s) => !process.env.BENCH_MESH_SHAPES || process.env.BENCH_MESH_SHAPES.split(",").includes(`${s.routers}x${s.hosts}`));

const CLOCK_TICKS = 100;
/** CPU seconds (user + system) a process has used so far (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** What the routers' metrics listeners count, summed over the routers, for diagnosis (the delivery audit decides whether anything was lost). */
interface RouterCounts {
  /** `tm_router_frames_out_total`: frames written to clients. */
  framesOut: number;
  /** `tm_router_outbound_coalesced_total`: deltas merged into the previous frame of a connection that was behind. */
  coalesced: number;
  /** `tm_router_outbound_dropped_total`, every reason (stale epochs). */
  dropped: number;
}

async function routerCounts(topo: Cluster): Promise<RouterCounts> {
  const [framesOut, coalesced, dropped] = await Promise.all(
    ["tm_router_frames_out_total", "tm_router_outbound_coalesced_total", "tm_router_outbound_dropped_total"].map((name) => scrapeSum(topo.metricsUrls, name)),
  );
  return { framesOut: framesOut!, coalesced: coalesced!, dropped: dropped! };
}

const countsSince = (a: RouterCounts, b: RouterCounts): RouterCounts => ({ framesOut: b.framesOut - a.framesOut, coalesced: b.coalesced - a.coalesced, dropped: b.dropped - a.dropped });

interface Round {
  /** Model deltas that arrived (all of them, or the run failed). */
  deltas: number;
  /** `item/agentMessage/delta` frames that carried them. */
  frames: number;
  /** What the routers' metrics counted during the round (every frame they wrote, deltas merged, events dropped). */
  router: RouterCounts;
  seconds: number;
  perSecond: number;
  /** CPU seconds per second of the round, per process (1.0 = one core busy). */
  cpu?: Record<string, number>;
  /** Deltas per CPU second of nats-server, routers and hosts together. */
  deltasPerMeshCpuSecond?: number;
  /** The same including the benchmark's clients and the model simulator. */
  deltasPerCpuSecondAll?: number;
  /** Threads of the round per host id. */
  threadsPerHost?: Record<string, number>;
}

function processes(topo: Cluster): Record<string, number> {
  const out: Record<string, number> = { nats: topo.natsPid };
  topo.routers.forEach((r, i) => (out[`router-${i + 1}`] = r.child.pid!));
  topo.hosts.forEach((h, i) => (out[`host-${i + 1}`] = h.proc.child.pid!));
  return out;
}

const connections = (concurrent: number, routers: number) => Math.max(routers, Math.min(concurrent, MAX_CONNECTIONS));

/** Heartbeat lease lapses seen on any host of the current shape. */
let lapses = 0;
let roundNo = 0;

async function round(run: BenchRun, sim: ModelSim, topo: Cluster, owners: KvOwnerLeases, concurrent: number): Promise<Round> {
  const tag = ++roundNo;
  const conns = connections(concurrent, topo.urls.length);
  const clients = await Promise.all(Array.from({ length: conns }, (_, i) => BenchClient.connect(topo.urls[i % topo.urls.length]!, topo.token)));
  try {
    const threads: Array<{ c: BenchClient; id: string; chunks: string[] }> = [];
    for (let i = 0; i < concurrent; i++) {
      const c = clients[i % conns]!;
      const id = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
      const chunks = scriptedChunks(DELTAS_PER_TURN, `r${tag}t${i}`);
      sim.script(id, [{ output: [{ type: "message", text: chunks }] }]);
      threads.push({ c, id, chunks });
    }
    const router0 = await routerCounts(topo);
    const pids = processes(topo);
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const self0 = process.cpuUsage();
    const t0 = now();
    const turns = await Promise.all(threads.map(({ c, id }) => c.turn(id, "stream")));
    await deadline(Promise.all(turns.map((t) => t.completedAt)), ROUND_TIMEOUT_MS, `round of ${concurrent} turns (${lapses} host lease lapses)`);
    const seconds = (now() - t0) / 1000;
    if (lapses > 0) throw new Error(`a host's heartbeat lease lapsed ${lapses} time(s) during the round`);
    const self = process.cpuUsage(self0);
    const cpu1 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    threads.forEach(({ id, chunks }, i) => run.audit.expect(turns[i]!.turnId, { threadId: id, chunks }));
    const { deltas, frames } = observeDelivered(run.audit, turns.map((t, i) => ({ client: threads[i]!.c, turnId: t.turnId })));
    const r: Round = {
      deltas,
      frames,
      router: countsSince(router0, await routerCounts(topo)),
      seconds: Number(seconds.toFixed(3)),
      perSecond: Math.round(deltas / seconds),
    };
    if (concurrent > 1) {
      const cpu: Record<string, number> = {};
      for (const k of Object.keys(pids)) cpu[k] = Number(((cpu1[k]! - cpu0[k]!) / seconds).toFixed(2));
      cpu["bench+sim"] = Number(((self.user + self.system) / 1e6 / seconds).toFixed(2));
      r.cpu = cpu;
      // What the round cost regardless of how much of the shared machine it got.
      const mesh = Object.entries(cpu).filter(([k]) => k !== "bench+sim").reduce((a, [, v]) => a + v, 0);
      r.deltasPerMeshCpuSecond = Math.round(r.perSecond / mesh);
      r.deltasPerCpuSecondAll = Math.round(r.perSecond / (mesh + cpu["bench+sim"]));
      const perHost: Record<string, number> = {};
      for (const t of threads) {
        const hostId = (await owners.read(TENANT, t.id))?.hostId ?? "unknown";
        perHost[hostId] = (perHost[hostId] ?? 0) + 1;
      }
      r.threadsPerHost = perHost;
    }
    return r;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/**
 * A warm-up round, then `rounds` measured rounds; the median round plus every round's rate. Every round,
 * the warm-up included, is audited: one that lost a turn or a delta fails the run.
 */
async function throughput(
  run: BenchRun,
  sim: ModelSim,
  topo: Cluster,
  owners: KvOwnerLeases,
  concurrent: number,
  rounds: number,
): Promise<Round & { rounds: number[]; threadsPerHostByRound?: Array<Record<string, number>>; loadAverage: number[] }> {
  await round(run, sim, topo, owners, concurrent);
  const results: Round[] = [];
  while (results.length < rounds) {
    const r = await round(run, sim, topo, owners, concurrent);
    console.log(
      `  ${concurrent} turn(s), round ${results.length + 1}/${rounds}: ${r.perSecond} deltas/s in ${r.frames} frames (routers wrote ${r.router.framesOut} frames, coalesced ${r.router.coalesced}, dropped ${r.router.dropped})${r.cpu ? ` cpu ${JSON.stringify(r.cpu)}` : ""}${r.threadsPerHost ? ` threads ${JSON.stringify(Object.values(r.threadsPerHost))}` : ""}`,
    );
    results.push(r);
  }
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  const placement = results.flatMap((r) => (r.threadsPerHost ? [r.threadsPerHost] : []));
  return {
    ...sorted[Math.floor(sorted.length / 2)]!,
    rounds: results.map((r) => r.perSecond),
    ...(placement.length > 0 ? { threadsPerHostByRound: placement } : {}),
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

async function shape(run: BenchRun, routers: number, hosts: number): Promise<Record<string, unknown>> {
  lapses = 0;
  const sim = await startModelSim({ port: 0 });
  const topo = await requireCluster({
    simUrl: sim.url,
    routers,
    hosts,
    extraEnv: {
      THREADMESH_LOG_LEVEL: "warn",
      THREADMESH_LEASE_TTL_MS: String(LEASE_TTL_MS),
      // The production default (the test topology's 0 makes model failures deterministic): with 0, a few
      // turns of a 100-turn round can fail on "Connection error." before their stream starts.
      THREADMESH_MODEL_MAX_RETRIES: "2",
    },
  });
  for (const h of topo.hosts) {
    h.proc.child.stderr!.on("data", (d: string) => {
      if (d.includes(LAPSE_LINE)) lapses++;
    });
  }
  const owners = topo.owners;
  try {
    const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
    console.log(`${routers} router(s) × ${hosts} host(s), load average ${loadBefore.join(" ")}`);
    const one = await throughput(run, sim, topo, owners, 1, ROUNDS_1);
    const hundred = await throughput(run, sim, topo, owners, CONCURRENT, ROUNDS_100);
    return {
      routers,
      hosts,
      connections: { turn1: connections(1, routers), turns100: connections(CONCURRENT, routers) },
      deltasPerSecond1Turn: one,
      [`deltasPerSecond${CONCURRENT}Turns`]: hundred,
      met: CONCURRENT === 100 && hundred.perSecond >= TARGET_PER_SECOND,
      loadAverageBefore: loadBefore,
    };
  } finally {
    await topo.stop();
    await sim.close();
  }
}

await runBenchmark("mesh-throughput", async (run) => {
  const results = [];
  for (const s of SHAPES) results.push(await shape(run, s.routers, s.hosts));
  return {
    deltasPerTurn: DELTAS_PER_TURN,
    leaseTtlMs: LEASE_TTL_MS,
    concurrentTurns: CONCURRENT,
    targetPerSecond100Turns: TARGET_PER_SECOND,
    met: results.every((x) => x.met),
    shapes: results,
  };
});
