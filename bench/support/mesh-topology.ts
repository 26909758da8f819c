import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ThreadmeshProcess, runThreadmesh } from "../../test/support/processes.ts";
import { startNatsServer } from "../../test/support/nats-server.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";

/**
 * N routers and M session hosts as real processes on one nats-server (JetStream, so the event stream
 * `TM_EVENTS` captures every thread event as in production) and one fresh PostgreSQL database.
 * test/support/cluster.ts starts one router only; the mesh benchmarks need several.
 */
export interface MeshTopology {
  /** One WebSocket URL per router, in start order. */
  readonly urls: string[];
  readonly token: string;
  /** `nats://…` of the server, for benchmarks that read the stream directly. */
  readonly natsUrl: string;
  /** Process id of nats-server, e.g. to read its CPU time. */
  readonly natsPid: number;
  readonly routers: ThreadmeshProcess[];
  readonly hosts: ThreadmeshProcess[];
  stop(): Promise<void>;
}

export interface MeshTopologyOptions {
  /** Base URL of the model simulator (without /v1). */
  simUrl: string;
  routers: number;
  hosts: number;
  /** Environment of every Threadmesh process. */
  extraEnv?: Record<string, string>;
}

/** Starts the mesh, or throws when nats-server or PostgreSQL is missing (a benchmark never skips). */
export async function startMeshTopology(opts: MeshTopologyOptions): Promise<MeshTopology> {
  const nats = await startNatsServer({ jetstream: true });
  if (!nats) throw new Error("nats-server is not installed");
  let db: TestDatabase | null = null;
  const dir = mkdtempSync(join(tmpdir(), "tm-bench-mesh-"));
  const procs: ThreadmeshProcess[] = [];
  const cleanup = async () => {
    // Routers first, so none of them retries a host that is already gone.
    const routers = procs.filter((p) => p.name.startsWith("router"));
    await Promise.all(routers.map((p) => p.stop()));
    await Promise.all(procs.filter((p) => !routers.includes(p)).map((p) => p.stop()));
    await nats.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    db = await createTestDatabase();
    if (!db) throw new Error("PostgreSQL is unreachable (TEST_POSTGRES_URL or 127.0.0.1:5432)");
    const token = randomBytes(16).toString("hex");
    const env: Record<string, string> = {
      OPENAI_BASE_URL: `${opts.simUrl}/v1`,
      OPENAI_API_KEY: "sim",
      THREADMESH_TOKEN: token,
      THREADMESH_WORKSPACE_ROOT: join(dir, "workspaces"),
      THREADMESH_MODEL_MAX_RETRIES: "0",
      // Several hosts on one machine must not compete for the default metrics port.
      THREADMESH_METRICS_PORT: "0",
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      ...(opts.extraEnv ?? {}),
    };
    const migrated = await runThreadmesh(["migrate"], env);
    if (migrated.code !== 0) throw new Error(`threadmesh migrate failed: ${migrated.stderr}`);

    const hosts = Array.from({ length: opts.hosts }, (_, i) => ThreadmeshProcess.spawn(`host-${i + 1}`, ["host"], env));
    procs.push(...hosts);
    // Routers start once every host heartbeats, so the first threads already spread over all of them.
    await Promise.all(hosts.map((h) => h.waitForLine(/session host \S+ ready/, 60_000)));
    const routers = Array.from({ length: opts.routers }, (_, i) => ThreadmeshProcess.spawn(`router-${i + 1}`, ["router", "--port", "0"], env));
    procs.push(...routers);
    const urls = await Promise.all(routers.map(async (r) => (await r.waitForLine(/listening on: (ws:\/\/\S+)/, 60_000))[1]!));
    return { urls, token, natsUrl: nats.url, natsPid: nats.pid, routers, hosts, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
