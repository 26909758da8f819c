import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus } from "@threadmesh/mesh";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openStore, type ThreadStore } from "@threadmesh/persistence";
import type { Telemetry } from "@threadmesh/telemetry";
import { OPERATOR_POLICY_CAPS, SessionHost, type HostConfig, type ModelConfig } from "../src/index.ts";
import { HostTestClient } from "./host-test-client.ts";

export const TENANT = "acme";

export interface HarnessOptions {
  config?: Partial<HostConfig>;
  model?: Partial<ModelConfig>;
  /** Store URL; default a SQLite file in the harness directory (so a second host can reopen it). */
  storeUrl?: string;
  /** Default: the host's no-op telemetry. */
  telemetry?: Telemetry;
  /** What the host sees of the store (e.g. one slow to write); default the store itself. */
  wrapStore?: (store: ThreadStore) => ThreadStore;
}

/** A session host on an in-process bus, a SQLite store and the model simulator over HTTP. */
export interface Harness {
  readonly dir: string;
  readonly workspaceRoot: string;
  readonly bus: InProcessBus;
  readonly sim: ModelSim;
  store: ThreadStore;
  host: SessionHost;
  readonly client: HostTestClient;
  /** Extra clients (other connections) created with {@link connect}. */
  connect(connId: string): HostTestClient;
  /** Closes the host and store and starts new ones on the same database file. */
  restart(): Promise<void>;
  /** Stops everything and asserts every message seen validated against the Codex schema. */
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "tm-host-test-"));
  // Sandbox users (uids of their own when the host is root) must be able to traverse to their workspaces.
  chmodSync(dir, 0o711);
  const workspaceRoot = join(dir, "workspaces");
  const storeUrl = opts.storeUrl ?? `sqlite:${join(dir, "threadmesh.db")}`;
  const bus = new InProcessBus();
  const sim = await startModelSim({ port: 0 });
  const model: Partial<ModelConfig> = { baseURL: `${sim.url}/v1`, apiKey: "sim", model: "sim-model", maxRetries: 0, ...opts.model };
  // A clean environment: the login shell of `bash -lc` must not pick up the developer's profile.
  const commandEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8" };
  // Escalations and full access are what the approval and tool tests exercise; caps have their own tests.
  const config: Partial<HostConfig> = { workspaceRoot, commandEnv, policyCaps: OPERATOR_POLICY_CAPS, ...opts.config };
  const makeHost = async (store: ThreadStore) =>
    SessionHost.create({ bus, store: opts.wrapStore?.(store) ?? store, model, config, hostId: "host-test", telemetry: opts.telemetry });
  let store = await openStore({ url: storeUrl });
  let host = await makeHost(store);
  const client = new HostTestClient(bus, TENANT);
  const clients: HostTestClient[] = [client];
  return {
    dir,
    workspaceRoot,
    bus,
    sim,
    get store() {
      return store;
    },
    get host() {
      return host;
    },
    client,
    connect(connId: string) {
      const c = new HostTestClient(bus, TENANT, { connId });
      clients.push(c);
      return c;
    },
    async restart() {
      await host.close();
      await store.close();
      store = await openStore({ url: storeUrl });
      host = await makeHost(store);
    },
    async close() {
      await host.close();
      await bus.flush();
      for (const c of clients) c.close();
      await bus.close();
      await store.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(clients.flatMap((c) => c.schemaViolations), [], "every message validates against the Codex schema");
    },
  } as Harness;
}

/** Starts a thread and waits for its `thread/started` broadcast; returns the thread id and the response. */
export async function startThread(c: HostTestClient, params: Record<string, unknown> = {}): Promise<{ threadId: string; response: any }> {
  const response = await c.call("thread/start", params);
  const threadId = response.thread.id as string;
  await c.waitForMethod("thread/started", threadId);
  return { threadId, response };
}

/** `[{type:"text", text}]`. */
export function text(t: string): Array<{ type: "text"; text: string }> {
  return [{ type: "text", text: t }];
}
