/**
 * `--spawn`: a mesh of real processes on ephemeral ports for the run, from the test harness: the model
 * simulator (in this process), then either `threadmesh dev` on SQLite (`embedded`) or nats-server with
 * JetStream, PostgreSQL (a database of its own on TEST_POSTGRES_URL's server) and `routers` routers and
 * `hosts` session hosts as child processes.
 */
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startCluster } from "../../test/support/cluster.ts";
import { startTopology } from "../../test/support/topology.ts";
import { Front, backendOf } from "./front.ts";
import { rollMesh, type RollReport } from "./roll.ts";

export type MeshSpec = { kind: "embedded" } | { kind: "distributed"; routers: number; hosts: number; natsNodes: number };

/** A spawned mesh: the router URLs clients spread over, the token they present, the simulator URL. */
export interface SpawnedMesh {
  urls: string[];
  token: string;
  simUrl: string;
  description: string;
  /** With a front (`front: true`, distributed only): replaces every router and host once, one at a time. */
  roll?: (log: (line: string) => void) => Promise<RollReport>;
  stop(): Promise<void>;
}

/** Drain deadline of routers and hosts unless the mesh's environment sets THREADMESH_DRAIN_DEADLINE_MS (the CLI's default), ms. */
const DEFAULT_DRAIN_DEADLINE_MS = 10_000;

/** Bad `--spawn` value. */
export class SpawnSpecError extends Error {}

/** Parses `embedded` or `routers=R,hosts=H[,nats=N]` (`distributed` = one of each). */
export function parseMeshSpec(spec: string): MeshSpec {
  if (spec === "embedded") return { kind: "embedded" };
  const out = { kind: "distributed" as const, routers: 1, hosts: 1, natsNodes: 1 };
  if (spec === "distributed") return out;
  for (const part of spec.split(",")) {
    const m = /^(routers|hosts|nats)=(\d+)$/.exec(part.trim());
    if (!m || Number(m[2]) < 1) throw new SpawnSpecError(`--spawn: expected "embedded" or "routers=N,hosts=N[,nats=N]", got "${spec}"`);
    if (m[1] === "routers") out.routers = Number(m[2]);
    else if (m[1] === "hosts") out.hosts = Number(m[2]);
    else out.natsNodes = Number(m[2]);
  }
  return out;
}

export function describeMesh(spec: MeshSpec): string {
  return spec.kind === "embedded" ? "embedded (threadmesh dev, SQLite)" : `${spec.routers} router(s) × ${spec.hosts} host(s), ${spec.natsNodes} NATS node(s), PostgreSQL`;
}

/**
 * Starts the mesh; `tokensPerSecond` paces the simulator's unscripted answers (0 = as fast as it can);
 * `env` is added to every Threadmesh process's environment. With `front` (distributed only), clients
 * reach the routers through one port in front of them ({@link Front}), as behind a Service, and the
 * mesh can be rolled.
 */
export async function spawnMesh(spec: MeshSpec, tokensPerSecond: number, env: Record<string, string> = {}, opts: { front?: boolean } = {}): Promise<SpawnedMesh> {
  // Scripted replies carry their own pace; this only paces turns nobody scripted.
  const sim: ModelSim = await startModelSim({ port: 0, generative: { tokensPerSecond } });
  const extraEnv = { THREADMESH_LOG_LEVEL: "warn", THREADMESH_MODEL_MAX_RETRIES: "2", ...env };
  try {
    if (spec.kind === "embedded") {
      const topo = await startTopology("embedded", { simUrl: sim.url, extraEnv });
      if (!topo) throw new Error("could not start threadmesh dev");
      return { urls: [topo.url], token: topo.token, simUrl: sim.url, description: describeMesh(spec), stop: async () => (await topo.stop(), await sim.close()) };
    }
    const cluster = await startCluster({ simUrl: sim.url, routers: spec.routers, hosts: spec.hosts, natsNodes: spec.natsNodes, extraEnv });
    if (!cluster) throw new Error("a distributed mesh needs nats-server (on PATH or /usr/sbin) and PostgreSQL (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432)");
    if (!opts.front) return { urls: cluster.urls, token: cluster.token, simUrl: sim.url, description: describeMesh(spec), stop: async () => (await cluster.stop(), await sim.close()) };
    const front = await Front.start(cluster.urls.map(backendOf));
    const drainDeadlineMs = Number(env.THREADMESH_DRAIN_DEADLINE_MS ?? DEFAULT_DRAIN_DEADLINE_MS);
    return {
      urls: [front.url],
      token: cluster.token,
      simUrl: sim.url,
      description: `${describeMesh(spec)}, one front port`,
      roll: (log) => rollMesh(cluster, front, drainDeadlineMs, log),
      stop: async () => (await front.close(), await cluster.stop(), await sim.close()),
    };
  } catch (err) {
    await sim.close();
    throw err;
  }
}
