import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import pg from "pg";
import { natsServerBinary } from "../support/nats-server.ts";
import { Spawned } from "./spawned.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** The distributed quick start: the `sh` code block of README.md's "## Topologies" section that starts nats-server. */
export function quickStartBlock(readme: string): string {
  const section = readme.slice(readme.indexOf("\n## Topologies"));
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    if (m[1]!.includes("nats-server")) return m[1]!;
  }
  throw new Error("README.md has no sh block starting nats-server under ## Topologies");
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
    s.on("error", reject);
  });
}

/** A running quick start: the router's URL, and a stop that ends every process it started and drops its database. */
export interface QuickStart {
  url: string;
  script: string;
  stop(): Promise<void>;
}

/**
 * Runs `block` as written, with bash, from the repository root — only the fixed ports become free ones
 * and the database URL names a new database (that does not exist yet) on the test PostgreSQL server
 * (TEST_POSTGRES_URL, else local trust auth). Resolves once the router prints its URL and the
 * session host says it is ready.
 */
export async function runQuickStart(block: string): Promise<QuickStart> {
  const server = new URL(process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  server.pathname = "/postgres";
  const name = `tm_test_${process.pid}_${randomBytes(4).toString("hex")}_quickstart`;
  const db = new URL(server);
  db.pathname = `/${name}`;
  const ports = new Map<string, number>();
  for (const p of ["4222", "9100", "8765", "9464", "9465"]) ports.set(p, await freePort());
  const script = block
    .replace(/postgres:\/\/\S+/g, db.toString())
    .replace(/\b(4222|9100|8765|9464|9465)\b/g, (p) => String(ports.get(p)));
  const dir = mkdtempSync(join(tmpdir(), "tm-quick-start-"));
  const file = join(dir, "quick-start.sh");
  writeFileSync(file, script);
  const nats = natsServerBinary();
  if (nats === null) throw new Error("nats-server is not installed");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(nats)}:${process.env.PATH ?? ""}`,
    // nats-server -js keeps its store under $TMPDIR/nats.
    TMPDIR: dir,
    // What the block does not set: the metrics port (a router's default), quieter logs.
    THREADMESH_METRICS_PORT: String(ports.get("9464")),
    THREADMESH_LOG_LEVEL: "warn",
  };
  delete env["DATABASE_URL"];
  delete env["NATS_URL"];
  const shell = new Spawned("quick start", "bash", [file], { cwd: ROOT, env, detached: true });
  const stop = async () => {
    try {
      if (shell.pid !== undefined) process.kill(-shell.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    const killed = setTimeout(() => {
      try {
        if (shell.pid !== undefined) process.kill(-shell.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, 10_000);
    await shell.exited;
    clearTimeout(killed);
    rmSync(dir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: server.toString() });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  try {
    const url = (await shell.waitForLine(/listening on: (ws:\/\/\S+)/, 180_000))[1]!;
    // Started in the background before the router: a reader of the quick start waits for its line too.
    await shell.waitForLine(/session host \S+ ready/, 180_000);
    return { url, script, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
