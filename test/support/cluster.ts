import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { KvHostRegistry, KvOwnerLeases, NatsBus } from "@threadmesh/mesh/nats";
import { ThreadmeshProcess, runThreadmesh } from "./processes.ts";
import { processEnv } from "./process-env.ts";
import { startNatsCluster, startNatsServer, type NatsServer } from "./nats-server.ts";
import { createTestDatabase, type TestDatabase } from "./postgres.ts";

/** Tenant of the cluster's token. */
export const CLUSTER_TENANT = "default";

/** One session host process of a {@link Cluster}. */
export interface ClusterHost {
  readonly id: string;
  readonly proc: ThreadmeshProcess;
  /** Base URL of the host's metrics listener (`<metricsUrl>/metrics`). */
  readonly metricsUrl: string;
}

/** One router process of a {@link Cluster}, started by {@link Cluster.addRouter}. */
export interface ClusterRouter {
  readonly proc: ThreadmeshProcess;
  /** Its WebSocket URL. */
  readonly url: string;
  /** Base URL of its metrics listener (`/metrics`, `/readyz`). */
  readonly metricsUrl: string;
}

/** The line a router, host or `threadmesh dev` prints for its metrics listener, with its base URL. */
export const METRICS_LINE = /metrics on (http:\/\/\S+)\/metrics/;

/**
 * One router and several session hosts as real processes on NATS (JetStream) and PostgreSQL, plus an
 * observer connection that watches the same host registry and owner entries the processes use.
 */
export interface Cluster {
  /** The first router's URL. */
  readonly url: string;
  /** Every router's URL, in start order. */
  readonly urls: string[];
  readonly token: string;
  readonly hosts: ClusterHost[];
  /** The first router. */
  readonly router: ThreadmeshProcess;
  readonly routers: ThreadmeshProcess[];
  /** Base URL of each router's metrics listener (`<url>/metrics`), in start order; the WebSocket port answers /metrics with 400. */
  readonly metricsUrls: string[];
  /** The registry and owner entries, as the processes see them. */
  readonly registry: KvHostRegistry;
  readonly owners: KvOwnerLeases;
  /** The cluster's PostgreSQL database. */
  readonly databaseUrl: string;
  /** A NATS connection of the test's own, e.g. to address one host directly. */
  readonly bus: NatsBus;
  /** Process id of the (first) nats-server now running (e.g. to read its CPU time). */
  readonly natsPid: number;
  /** Number of nats-server nodes (JetStream replicas follow it). */
  readonly natsNodes: number;
  /** Starts another host (with extra environment); resolves once it is ready (heartbeating), within `readyTimeoutMs` (30 s). */
  addHost(env?: Record<string, string>, readyTimeoutMs?: number): Promise<ClusterHost>;
  /** Starts another router; resolves once it listens (it joins {@link routers} and {@link urls}), within `readyTimeoutMs` (30 s). */
  addRouter(env?: Record<string, string>, readyTimeoutMs?: number): Promise<ClusterRouter>;
  /** The host process with this id. */
  host(id: string): ClusterHost;
  /** Stops the NATS server (on a cluster: its first node) and starts it again on the same port and JetStream store. */
  restartNats(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Base URL of the model simulator (without /v1). */
  simUrl: string;
  /** Number of hosts, or the extra environment of each. */
  hosts: number | Array<Record<string, string>>;
  /** Environment of every Threadmesh process (e.g. THREADMESH_MAX_THREADS). */
  extraEnv?: Record<string, string>;
  /** Number of routers; default 1. */
  routers?: number;
  /** nats-server nodes: 1 (default) or a JetStream cluster of this many, with every stream and bucket replicated on each. */
  natsNodes?: number;
}

/** Starts a cluster, or returns null when NATS or PostgreSQL is missing outside CI. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster | null> {
  const nodes = opts.natsNodes ?? 1;
  const natsCluster = nodes > 1 ? await startNatsCluster(nodes) : null;
  const first = natsCluster !== null ? natsCluster.nodes[0]! : await startNatsServer({ jetstream: true });
  if (!first) return null;
  let nats: NatsServer = first;
  const natsUrl = natsCluster?.url ?? first.url;
  const natsStore = natsCluster === null ? nats.storeDir : null;
  let db: TestDatabase | null = null;
  const dir = mkdtempSync(join(tmpdir(), "tm-cluster-"));
  const procs: ThreadmeshProcess[] = [];
  let observer: NatsBus | null = null;
  const cleanup = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await observer?.close();
    if (natsCluster !== null) await natsCluster.stop();
    else await nats.stop();
    if (natsStore !== null) rmSync(natsStore, { recursive: true, force: true });
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    db = await createTestDatabase();
    if (!db) {
      await cleanup();
      return null;
    }
    const token = randomBytes(16).toString("hex");
    const env: Record<string, string> = {
      ...processEnv({ simUrl: opts.simUrl, token, workspaceRoot: join(dir, "workspaces") }),
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      THREADMESH_JETSTREAM_REPLICAS: String(nodes),
      ...(opts.extraEnv ?? {}),
    };
    const migrated = await runThreadmesh(["migrate"], env);
    if (migrated.code !== 0) throw new Error(`threadmesh migrate failed: ${migrated.stderr}`);
    observer = await NatsBus.connect({ servers: natsUrl.split(","), name: "cluster-observer" });
    const registry = await KvHostRegistry.open(observer.connection, { leaseTtlMs: Number(env.THREADMESH_LEASE_TTL_MS ?? 3_000), replicas: nodes });
    const owners = await KvOwnerLeases.open(observer.connection, { replicas: nodes });
    await Promise.all([registry.start(), owners.start()]);

    const hosts: ClusterHost[] = [];
    const addHost = async (hostEnv: Record<string, string> = {}, readyTimeoutMs?: number): Promise<ClusterHost> => {
      const proc = ThreadmeshProcess.spawn(`host-${procs.length + 1}`, ["host"], { ...env, ...hostEnv });
      procs.push(proc);
      const id = (await proc.waitForLine(/session host (\S+) ready/, readyTimeoutMs))[1]!;
      const h = { id, proc, metricsUrl: (await proc.waitForLine(METRICS_LINE, readyTimeoutMs))[1]! };
      hosts.push(h);
      return h;
    };
    const hostEnvs = typeof opts.hosts === "number" ? Array.from({ length: opts.hosts }, () => ({})) : opts.hosts;
    await Promise.all(hostEnvs.map((e) => addHost(e)));
    const routers = Array.from({ length: opts.routers ?? 1 }, (_, i) => ThreadmeshProcess.spawn(`router-${i + 1}`, ["router", "--port", "0"], env));
    procs.push(...routers);
    const urls = await Promise.all(routers.map(async (r) => (await r.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!));
    const metricsUrls = await Promise.all(routers.map(async (r) => (await r.waitForLine(METRICS_LINE))[1]!));
    const addRouter = async (routerEnv: Record<string, string> = {}, readyTimeoutMs?: number): Promise<ClusterRouter> => {
      const proc = ThreadmeshProcess.spawn(`router-${routers.length + 1}`, ["router", "--port", "0"], { ...env, ...routerEnv });
      procs.push(proc);
      const url = (await proc.waitForLine(/listening on: (ws:\/\/\S+)/, readyTimeoutMs))[1]!;
      const metricsUrl = (await proc.waitForLine(METRICS_LINE, readyTimeoutMs))[1]!;
      routers.push(proc);
      urls.push(url);
      metricsUrls.push(metricsUrl);
      return { proc, url, metricsUrl };
    };
    return {
      url: urls[0]!,
      urls,
      token,
      hosts,
      router: routers[0]!,
      routers,
      metricsUrls,
      registry,
      owners,
      databaseUrl: db.url,
      bus: observer,
      get natsPid() {
        return natsCluster !== null ? natsCluster.nodes[0]!.pid : nats.pid;
      },
      natsNodes: nodes,
      addHost,
      addRouter,
      host(id) {
        const h = hosts.find((x) => x.id === id);
        if (!h) throw new Error(`no host ${id} in this cluster`);
        return h;
      },
      restartNats: async () => {
        if (natsCluster !== null) return natsCluster.restartNode(0);
        const port = nats.port;
        await nats.stop({ keepStore: true });
        const again = await startNatsServer({ jetstream: true, port, storeDir: natsStore ?? undefined });
        if (!again) throw new Error("nats-server disappeared");
        nats = again;
      },
      stop: async () => {
        await Promise.all([registry.close(), owners.close()]);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
