import assert from "node:assert/strict";
import { ENVELOPE_VERSION, encodeEnvelope, decodeEnvelope, hostSubject, type ReplyEnvelope } from "@threadmesh/protocol";
import { CLUSTER_TENANT, type Cluster } from "../support/cluster.ts";
import { TestClient } from "../support/ws-client.ts";

export type Json = Record<string, any>;

export const text = (t: string) => [{ type: "text", text: t }];

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

/** `thread/start` sent to one host's own subject, bypassing the router (fills a host up). */
export async function startOn(cluster: Cluster, hostId: string): Promise<ReplyEnvelope> {
  const env = {
    v: ENVELOPE_VERSION,
    tenant: CLUSTER_TENANT,
    method: "thread/start",
    params: {},
    origin: { routerId: "test", connId: "direct", experimentalApi: false, clientName: "failover-test", clientVersion: "1" },
  } as const;
  const reply = await cluster.bus.request(hostSubject(CLUSTER_TENANT, hostId), encodeEnvelope(env), { timeoutMs: 10_000 });
  return decodeEnvelope<ReplyEnvelope>(reply.data);
}
