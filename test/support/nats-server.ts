import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { exitOf, findBinary, freePort, startServerProcess } from "./server-process.ts";

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
/** Time between SIGTERM and SIGKILL on stop. */
const STOP_GRACE_MS = 5_000;

/** The nats-server executable: `nats-server` on PATH, else the Debian location; null when neither exists. */
export function natsServerBinary(): string | null {
  return findBinary("nats-server", [DEBIAN_BINARY]);
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
    const { child, port } = await startServerProcess({
      binary,
      args: (p) => {
        const args = ["-a", "127.0.0.1", "-p", String(p)];
        if (storeDir !== null) args.push("-js", "-sd", storeDir);
        const c = opts.cluster;
        if (c !== undefined) {
          args.push("--server_name", c.serverName, "--cluster_name", c.name, "--cluster", `nats://127.0.0.1:${c.port}`, "--routes", c.routes.join(","));
        }
        return args;
      },
      // Logged once it accepts clients (and JetStream, when enabled, is up).
      readyLine: "Server is ready",
      portTaken: /address already in use/,
      port: opts.port,
    });
    return handle(child, port, ownsStore ? storeDir : null, storeDir);
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

function handle(child: ChildProcess, port: number, storeDir: string | null, usedStoreDir: string | null): NatsServer {
  const exited = exitOf(child);
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
