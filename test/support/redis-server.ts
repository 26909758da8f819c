import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/** A redis-server child process on an ephemeral port, without persistence. */
export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** SIGKILLs the server (as a crash would) and resolves once it has exited (idempotent). */
  kill(): Promise<void>;
}

/** The server logs this line once it accepts clients. */
const READY_LINE = "Ready to accept connections";
const READY_TIMEOUT_MS = 15_000;
const MAX_PORT_ATTEMPTS = 5;
const LOG_TAIL_CHARS = 4_000;

/** `redis-server` on PATH, or null. */
export function redisServerBinary(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter((d) => d.length > 0)) {
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Starts redis-server on 127.0.0.1 (a free port, or `port` to restart one where clients expect it) and
 * resolves once it accepts connections. Null when the binary is missing, except under `CI=true`, where
 * it throws: CI must run the Redis tests, never skip them.
 */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServer | null> {
  const binary = redisServerBinary();
  if (binary === null) {
    if (process.env.CI === "true") throw new Error("redis-server not found on PATH (required when CI=true)");
    return null;
  }
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"];
    const started = await launch(binary, args);
    if (started.kind === "ready") return handle(started.child, port);
    if (started.kind === "port-taken" && opts.port === undefined && attempt < MAX_PORT_ATTEMPTS) continue;
    throw new Error(`redis-server ${args.join(" ")} did not start: ${started.reason}\n${started.log}`);
  }
}

function handle(child: ChildProcess, port: number): RedisServer {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

type Launch = { kind: "ready"; child: ChildProcess } | { kind: "port-taken" | "failed"; reason: string; log: string };

function launch(binary: string, args: string[]): Promise<Launch> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    let settled = false;
    const finish = (result: Launch): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.removeListener("data", onData);
      child.removeListener("exit", onExit);
      // Keep draining output so the server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
      if (log.includes(READY_LINE)) finish({ kind: "ready", child });
      else if (/Address already in use/.test(log)) {
        child.kill("SIGKILL");
        finish({ kind: "port-taken", reason: "port taken", log });
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      finish({ kind: /Address already in use/.test(log) ? "port-taken" : "failed", reason: `exited (${code ?? signal})`, log });
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish({ kind: "failed", reason: `not ready within ${READY_TIMEOUT_MS} ms`, log });
    }, READY_TIMEOUT_MS);
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS)));
    child.once("exit", onExit);
    child.once("error", (err) => finish({ kind: "failed", reason: err.message, log }));
  });
}

/** A port the OS just handed out; another process may still take it before redis-server binds it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
