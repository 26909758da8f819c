import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

/** A nats-server child process on an ephemeral port; `stop()` kills it and removes its store (idempotent). */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** The JetStream store directory, when JetStream is on. */
  storeDir: string | null;
  /** `keepStore` leaves the JetStream store on disk (a restart continues from it). */
  stop(opts?: { keepStore?: boolean }): Promise<void>;
}

export interface StartNatsServerOptions {
  /** Enable JetStream with a fresh temporary store directory. Default false. */
  jetstream?: boolean;
  /** Listen on this port (e.g. to restart a server where clients expect it); default: a free one. */
  port?: number;
  /** JetStream store directory to use (e.g. a restarted server's); kept on stop. Default: a fresh one, removed on stop. */
  storeDir?: string;
  /** Join a cluster: this node's name, its route port and the other nodes' route URLs. */
  cluster?: { name: string; serverName: string; port: number; routes: string[] };
}

/** Where the Debian package installs the binary, which is not on a normal user's PATH. */
const DEBIAN_BINARY = "/usr/sbin/nats-server";
/** The server logs this line once it accepts clients (and JetStream, when enabled, is up). */
const READY_LINE = "Server is ready";
const READY_TIMEOUT_MS = 15_000;
/** Time between SIGTERM and SIGKILL on stop. */
const STOP_GRACE_MS = 5_000;
/** Attempts when another process takes the chosen port between probing and binding. */
const MAX_PORT_ATTEMPTS = 5;
/** Log kept for error messages, in characters. */
const LOG_TAIL_CHARS = 4_000;

/** The nats-server executable: `nats-server` on PATH, else the Debian location; null when neither exists. */
export function natsServerBinary(): string | null {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d.length > 0);
  for (const candidate of [...dirs.map((d) => join(d, "nats-server")), DEBIAN_BINARY]) {
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
 * Starts nats-server on 127.0.0.1 and a free port and resolves once it logs that it is ready. Returns null
 * when the binary is missing so the caller can skip — except under `CI=true`, where it throws: CI must
 * run the NATS tests, never skip them.
 */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServer | null> {
  const binary = natsServerBinary();
  if (binary === null) {
    if (process.env.CI === "true") {
      throw new Error(`nats-server not found on PATH or at ${DEBIAN_BINARY} (required when CI=true)`);
    }
    return null;
  }
  const storeDir = opts.jetstream ? (opts.storeDir ?? (await mkdtemp(join(tmpdir(), "tm-nats-")))) : null;
  const ownsStore = opts.storeDir === undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      const port = opts.port ?? (await freePort());
      const args = ["-a", "127.0.0.1", "-p", String(port)];
      if (storeDir !== null) args.push("-js", "-sd", storeDir);
      const c = opts.cluster;
      if (c !== undefined) {
        args.push("--server_name", c.serverName, "--cluster_name", c.name, "--cluster", `nats://127.0.0.1:${c.port}`, "--routes", c.routes.join(","));
      }
      const started = await launch(binary, args);
      if (started.kind === "ready") return handle(started.child, port, ownsStore ? storeDir : null, storeDir);
      if (started.kind === "port-taken" && opts.port === undefined && attempt < MAX_PORT_ATTEMPTS) continue;
      throw new Error(`nats-server ${args.join(" ")} did not start: ${started.reason}\n${started.log}`);
    }
  } catch (err) {
    if (storeDir !== null && ownsStore) await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
}

/** A JetStream cluster of nats-server nodes on 127.0.0.1, each with its own store. */
export interface NatsCluster {
  /** Every node's client URL, comma-separated (what `NATS_URL` takes). */
  readonly url: string;
  readonly nodes: readonly NatsServer[];
  /** Stops node `i` and starts it again on the same ports and store; resolves once JetStream answers again. */
  restartNode(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Longest wait for a cluster's JetStream to elect its meta leader, in ms. */
const CLUSTER_READY_TIMEOUT_MS = 30_000;

/**
 * Starts `nodes` clustered nats-server processes with JetStream and resolves once JetStream answers
 * through them (a meta leader is elected). Null when the binary is missing outside CI, as {@link startNatsServer}.
 */
export async function startNatsCluster(nodes: number): Promise<NatsCluster | null> {
  if (natsServerBinary() === null) return startNatsServer().then(() => null);
  const clientPorts = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const stores = await Promise.all(Array.from({ length: nodes }, () => mkdtemp(join(tmpdir(), "tm-nats-node-"))));
  const name = `tm-${process.pid}`;
  const optionsOf = (i: number): StartNatsServerOptions => ({
    jetstream: true,
    port: clientPorts[i]!,
    storeDir: stores[i]!,
    cluster: { name, serverName: `n${i + 1}`, port: routePorts[i]!, routes: routePorts.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`) },
  });
  const started: NatsServer[] = [];
  const cleanup = async () => {
    await Promise.all(started.map((n) => n.stop()));
    await Promise.all(stores.map((d) => rm(d, { recursive: true, force: true })));
  };
  try {
    for (const server of await Promise.all(clientPorts.map((_, i) => startNatsServer(optionsOf(i))))) started.push(server!);
    const url = started.map((n) => n.url).join(",");
    await jetStreamReady(url);
    return {
      url,
      nodes: started,
      async restartNode(i) {
        await started[i]!.stop({ keepStore: true });
        started[i] = (await startNatsServer(optionsOf(i)))!;
        await jetStreamReady(started[i]!.url);
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Resolves once JetStream answers an account-info request through `url`. */
async function jetStreamReady(url: string): Promise<void> {
  const nc = await connect({ servers: url.split(","), maxReconnectAttempts: -1 });
  try {
    const until = Date.now() + CLUSTER_READY_TIMEOUT_MS;
    for (;;) {
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > until) throw new Error(`JetStream of ${url} not ready after ${CLUSTER_READY_TIMEOUT_MS} ms: ${String(err)}`);
        await delay(200);
      }
    }
  } finally {
    await nc.close();
  }
}

/** A port the OS just handed out; another process may still take it before nats-server binds it. */
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

type Launch =
  | { kind: "ready"; child: ChildProcess }
  | { kind: "port-taken" | "failed"; reason: string; log: string };

function launch(binary: string, args: string[]): Promise<Launch> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    let settled = false;
    const finish = (result: Launch): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stderr?.removeListener("data", onData);
      child.removeListener("exit", onExit);
      child.removeListener("error", onError);
      // Keep draining stderr so a chatty server never blocks on a full pipe.
      child.stderr?.resume();
      resolve(result);
    };
    const onData = (chunk: string): void => {
      log = (log + chunk).slice(-LOG_TAIL_CHARS);
      if (log.includes(READY_LINE)) finish({ kind: "ready", child });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const kind = log.includes("address already in use") ? "port-taken" : "failed";
      finish({ kind, reason: `exited (code ${code}, signal ${signal})`, log });
    };
    const onError = (err: Error): void => finish({ kind: "failed", reason: err.message, log });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish({ kind: "failed", reason: `not ready after ${READY_TIMEOUT_MS} ms`, log });
    }, READY_TIMEOUT_MS);
    child.stderr?.setEncoding("utf8").on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

function handle(child: ChildProcess, port: number, storeDir: string | null, usedStoreDir: string | null): NatsServer {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  // A test process that dies without calling stop() must not leave the server behind.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let stopping: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    storeDir: usedStoreDir,
    stop(opts = {}) {
      stopping ??= (async () => {
        process.removeListener("exit", killOnExit);
        child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MS);
        });
        if ((await Promise.race([exited, grace])) === "timeout") {
          child.kill("SIGKILL");
          await exited;
        }
        clearTimeout(timer);
        if (storeDir !== null && opts.keepStore !== true) await rm(storeDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
