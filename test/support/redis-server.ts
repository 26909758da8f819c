import type { ChildProcess } from "node:child_process";
import { exitOf, findBinary, startServerProcess } from "./server-process.ts";

/** A redis-server child process on an ephemeral port, without persistence. */
export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** SIGKILLs the server (as a crash would) and resolves once it has exited (idempotent). */
  kill(): Promise<void>;
}

/** `redis-server` on PATH, or null. */
export function redisServerBinary(): string | null {
  return findBinary("redis-server");
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
  const { child, port } = await startServerProcess({
    binary,
    args: (p) => ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
    readyLine: "Ready to accept connections",
    portTaken: /Address already in use/,
    port: opts.port,
  });
  return handle(child, port);
}

function handle(child: ChildProcess, port: number): RedisServer {
  const exited = exitOf(child);
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
