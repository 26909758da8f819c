import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ThreadmeshProcess, runThreadmesh } from "./processes.ts";
import { processEnv } from "./process-env.ts";
import { startNatsServer } from "./nats-server.ts";
import { createTestDatabase } from "./postgres.ts";

export type TopologyKind = "embedded" | "distributed";

/** The tenant of every topology's token. */
export const TOPOLOGY_TENANT = "default";

/** A running Threadmesh deployment for end-to-end tests: real processes on ephemeral ports. */
export interface Topology {
  readonly kind: TopologyKind;
  readonly url: string;
  readonly token: string;
  readonly workspaceRoot: string;
  /** The store every process of the topology shares (tests create tenants and API keys in it). */
  readonly databaseUrl: string;
  /** The workspace root of the tenant the topology's token belongs to: `<workspaceRoot>/default`. */
  readonly tenantRoot: string;
  /** Stops every Threadmesh process (not NATS or the database) and starts them again on the same store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  /** Base URL of the model simulator (without /v1). */
  simUrl: string;
  extraEnv?: Record<string, string>;
}

/** Starts one topology or returns null when a required service is missing outside CI. */
export async function startTopology(kind: TopologyKind, opts: TopologyOptions): Promise<Topology | null> {
  const dir = mkdtempSync(join(tmpdir(), `tm-e2e-${kind}-`));
  // Sandboxed commands run as the tenant's own uid, which must be able to traverse to its workspace.
  chmodSync(dir, 0o711);
  const token = randomBytes(16).toString("hex");
  const workspaceRoot = join(dir, "workspaces");
  const baseEnv: Record<string, string> = { ...processEnv({ simUrl: opts.simUrl, token, workspaceRoot }), ...(opts.extraEnv ?? {}) };

  if (kind === "embedded") {
    const env = { ...baseEnv, DATABASE_URL: `sqlite:${join(dir, "threadmesh.db")}` };
    let proc: ThreadmeshProcess;
    return running(
      { kind, token, workspaceRoot, databaseUrl: env.DATABASE_URL },
      async (port) => {
        proc = ThreadmeshProcess.spawn("dev", ["dev", "--port", String(port)], env);
        return (await proc.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
      },
      () => proc.stop(),
      async () => rmSync(dir, { recursive: true, force: true }),
    );
  }

  const nats = await startNatsServer({ jetstream: true });
  if (!nats) return null;
  const db = await createTestDatabase();
  if (!db) {
    await nats.stop();
    return null;
  }
  const env = { ...baseEnv, DATABASE_URL: db.url, NATS_URL: nats.url };
  const migrated = await runThreadmesh(["migrate"], env);
  if (migrated.code !== 0) throw new Error(`threadmesh migrate failed: ${migrated.stderr}`);
  let host: ThreadmeshProcess;
  let router: ThreadmeshProcess;
  return running(
    { kind, token, workspaceRoot, databaseUrl: db.url },
    async (port) => {
      host = ThreadmeshProcess.spawn("host", ["host"], env);
      await host.waitForLine(/session host \S+ ready/);
      router = ThreadmeshProcess.spawn("router", ["router", "--port", String(port)], env);
      return (await router.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    },
    async () => {
      await Promise.all([router.stop(), host.stop()]);
    },
    async () => {
      await nats.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  );
}

/**
 * Starts the Threadmesh processes with `start(port)` (port 0 first, then the same port on restart, so
 * clients reconnect to the URL they know) and wraps them as a {@link Topology}.
 */
async function running(
  base: { kind: TopologyKind; token: string; workspaceRoot: string; databaseUrl: string },
  start: (port: number) => Promise<string>,
  stopProcesses: () => Promise<void>,
  cleanup: () => Promise<void>,
): Promise<Topology> {
  let url = await start(0);
  const port = Number(new URL(url).port);
  return {
    ...base,
    tenantRoot: join(base.workspaceRoot, TOPOLOGY_TENANT),
    get url() {
      return url;
    },
    async restart() {
      await stopProcesses();
      url = await start(port);
    },
    async stop() {
      await stopProcesses();
      await cleanup();
    },
  };
}
