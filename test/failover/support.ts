import { after, before } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { ENVELOPE_VERSION, encodeEnvelope, decodeEnvelope, hostSubject, type ReplyEnvelope } from "@threadmesh/protocol";
import { CLUSTER_TENANT, startCluster, type Cluster, type ClusterOptions } from "../support/cluster.ts";
import { TestClient } from "../support/ws-client.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";

export type Json = Record<string, any>;

export const text = (t: string) => [{ type: "text", text: t }];

/** A model simulator and a cluster of real processes shared by one suite, and the clients its tests open. */
export interface FailoverFixture {
  readonly sim: ModelSim;
  readonly cluster: Cluster;
  readonly clients: TestClient[];
}

/**
 * Registers the suite's `before` (a model simulator, then a cluster on NATS and PostgreSQL: by default one
 * router and two session hosts) and `after` (every client closed, the cluster and the simulator stopped).
 */
export function failoverCluster(opts: Omit<ClusterOptions, "simUrl"> = { hosts: 2 }): FailoverFixture {
  let sim: ModelSim | undefined;
  let cluster: Cluster | undefined;
  const clients: TestClient[] = [];
  before(async () => {
    sim = await startModelSim({ port: 0 });
    const c = await startCluster({ ...opts, simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV, ...opts.extraEnv } });
    if (!c) throw new Error("the failover suites need nats-server (JetStream) and PostgreSQL");
    cluster = c;
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await cluster?.stop();
    await sim?.close();
  });
  return {
    get sim() {
      if (!sim) throw new Error("the suite has not started");
      return sim;
    },
    get cluster() {
      if (!cluster) throw new Error("the suite has not started");
      return cluster;
    },
    clients,
  };
}

export async function connect(cluster: Cluster, clients: TestClient[]): Promise<TestClient> {
  const c = await TestClient.initialized(cluster.url, { token: cluster.token });
  clients.push(c);
  return c;
}

/** Starts a thread and runs one turn to completion, so that it is stored with history. */
export async function threadWithHistory(c: TestClient, params: Json, prompt: string): Promise<string> {
  const threadId = (await c.call("thread/start", params)).thread.id as string;
  await runTurn(c, threadId, prompt);
  return threadId;
}

export async function runTurn(c: TestClient, threadId: string, prompt: string): Promise<Json> {
  const from = c.frames.length;
  const { turn } = await c.call("turn/start", { threadId, input: text(prompt) });
  return c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from, timeoutMs: 30_000 });
}

/** The owner entry of a thread, read from the store. */
export async function ownerOf(cluster: Cluster, threadId: string) {
  const entry = await cluster.owners.read(CLUSTER_TENANT, threadId);
  assert.ok(entry, `thread ${threadId} has an owner entry`);
  return entry;
}

/** Notifications of one thread received from index `from`, with the epoch that stamped them. */
export function threadEvents(c: TestClient, threadId: string, from = 0): Json[] {
  return c.frames.slice(from).filter((f) => typeof f.method === "string" && typeof f.epoch === "number" && (f.params?.threadId === threadId || f.params?.thread?.id === threadId));
}

/** Asserts that once an event of `newEpoch` arrived, no event of an older epoch followed. */
export function assertNoStaleAfter(events: Json[], newEpoch: number): void {
  const first = events.findIndex((f) => f.epoch === newEpoch);
  assert.ok(first >= 0, `an event of epoch ${newEpoch} arrived`);
  const stale = events.slice(first).filter((f) => f.epoch < newEpoch);
  assert.deepEqual(stale.map((f) => `${f.method}@${f.epoch}`), [], "no event of the old owner after the new one spoke");
}

/** A request sent to one host's own subject, bypassing the router (e.g. `thread/start` to fill a host up). */
export async function requestOn(cluster: Cluster, hostId: string, method: string, params: Json = {}): Promise<ReplyEnvelope> {
  const env = {
    v: ENVELOPE_VERSION,
    tenant: CLUSTER_TENANT,
    method,
    params,
    origin: { routerId: "test", connId: "direct", experimentalApi: false, clientName: "failover-test", clientVersion: "1" },
  } as const;
  const reply = await cluster.bus.request(hostSubject(CLUSTER_TENANT, hostId), encodeEnvelope(env), { timeoutMs: 10_000 });
  return decodeEnvelope<ReplyEnvelope>(reply.data);
}

/** `thread/start` sent to one host's own subject (fills a host up). */
export function startOn(cluster: Cluster, hostId: string): Promise<ReplyEnvelope> {
  return requestOn(cluster, hostId, "thread/start");
}
