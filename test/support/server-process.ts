import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { basename, delimiter, join } from "node:path";

const READY_TIMEOUT_MS = 15_000;
/** Attempts when another process takes the chosen port between probing and binding. */
const MAX_PORT_ATTEMPTS = 5;
/** Log kept for error messages, in characters. */
const LOG_TAIL_CHARS = 4_000;

/** The executable `name` on PATH, else the first of `fallbacks` that exists; null when none does. */
export function findBinary(name: string, fallbacks: string[] = []): string | null {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d.length > 0);
  for (const candidate of [...dirs.map((d) => join(d, name)), ...fallbacks]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface ServerLaunch {
  binary: string;
  /** The command line for a server listening on `port`. */
  args: (port: number) => string[];
  /** The server logs this line (on stdout or stderr) once it accepts clients. */
  readyLine: string;
  /** What the server logs when its port is taken. */
  portTaken: RegExp;
  /** Listen on this port (e.g. to restart a server where clients expect it); default: a free one, retried if taken. */
  port?: number;
}

/**
 * Spawns the server on a free port (or `port`) and resolves once it logs its ready line; a free port
 * another process takes first is retried with another. Throws with the server's log tail when it does not start.
 */
export async function startServerProcess(opts: ServerLaunch): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const args = opts.args(port);
    const started = await launch(opts.binary, args, opts.readyLine, opts.portTaken);
    if (started.kind === "ready") return { child: started.child, port };
    if (started.kind === "port-taken" && opts.port === undefined && attempt < MAX_PORT_ATTEMPTS) continue;
    throw new Error(`${basename(opts.binary)} ${args.join(" ")} did not start: ${started.reason}\n${started.log}`);
  }
}

/** Resolves once `child` has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** A port the OS just handed out; another process may still take it before the server binds it. */
export function freePort(): Promise<number> {
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

type Launch = { kind: "ready"; child: ChildProcess } | { kind: "port-taken" | "failed"; reason: string; log: string };

function launch(binary: string, args: string[], readyLine: string, portTaken: RegExp): Promise<Launch> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    let settled = false;
    const finish = (result: Launch): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.removeListener("data", onData);
      child.stderr?.removeListener("data", onData);
      child.removeListener("exit", onExit);
      child.removeListener("error", onError);
      // Keep draining output so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve(result);
    };
    const onData = (chunk: string): void => {
      log = (log + chunk).slice(-LOG_TAIL_CHARS);
      if (log.includes(readyLine)) finish({ kind: "ready", child });
      else if (portTaken.test(log)) {
        child.kill("SIGKILL");
        finish({ kind: "port-taken", reason: "port taken", log });
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish({ kind: portTaken.test(log) ? "port-taken" : "failed", reason: `exited (code ${code}, signal ${signal})`, log });
    };
    const onError = (err: Error): void => finish({ kind: "failed", reason: err.message, log });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish({ kind: "failed", reason: `not ready after ${READY_TIMEOUT_MS} ms`, log });
    }, READY_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.stderr?.setEncoding("utf8").on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}
