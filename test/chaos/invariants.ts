import assert from "node:assert/strict";
import type { TestClient } from "../support/ws-client.ts";

export type Json = Record<string, any>;

/**
 * Notifications of one thread a client received (with `seq`), in arrival order. For a connection that
 * follows only this thread: thread events that name no thread in their params (`account/rateLimits/updated`)
 * are its; broadcasts of other threads name theirs and are left out.
 */
export function threadEvents(frames: readonly Json[], threadId: string): Json[] {
  return frames.filter((f) => {
    if (typeof f.method !== "string" || typeof f.seq !== "number") return false;
    const named = f.params?.threadId ?? f.params?.thread?.id;
    return named === undefined || named === threadId;
  });
}

/** A subscriber's feed of a thread: every seq once, each one more than the last, nothing missing. */
export function assertSeqContinuity(events: readonly Json[], what: string): void {
  const seqs = events.map((f) => f.seq as number);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] === seqs[i - 1]! + 1) continue;
    const around = events.slice(Math.max(0, i - 4), i + 3).map((f) => `${f.seq}:${f.method}${f.__source ? `@${f.__source}` : ""}`);
    assert.equal(seqs[i], seqs[i - 1]! + 1, `${what}: seq ${seqs[i]} after ${seqs[i - 1]} (${events[i]!.method}); around: ${around.join(" ")}`);
  }
}

/** Once an owner epoch has spoken, no event of an older epoch follows: never two owners at once. */
export function assertEpochsNeverGoBack(events: readonly Json[], what: string): void {
  let newest = -Infinity;
  for (const f of events) {
    assert.ok(f.epoch >= newest, `${what}: ${f.method} of epoch ${f.epoch} after epoch ${newest}`);
    newest = f.epoch;
  }
}

/** Statuses a turn may end with after a fault: it ran to its end, or it was stopped at an unsafe point. */
const ENDED = new Set(["completed", "interrupted"]);

/**
 * Every turn ends for this subscriber: each turn it saw start, and each of `mustEnd`, has exactly one
 * `turn/completed`, with status completed or interrupted.
 */
export function assertTurnsEnded(events: readonly Json[], what: string, mustEnd: readonly string[] = []): void {
  const turns = new Set<string>(mustEnd);
  const ends = new Map<string, Json[]>();
  for (const f of events) {
    if (f.method === "turn/started") turns.add(f.params.turn.id);
    if (f.method === "turn/completed") ends.set(f.params.turn.id, [...(ends.get(f.params.turn.id) ?? []), f.params.turn]);
  }
  for (const id of turns) {
    const seen = ends.get(id) ?? [];
    assert.equal(seen.length, 1, `${what}: turn ${id} ended ${seen.length} times`);
    assert.ok(ENDED.has(seen[0]!.status), `${what}: turn ${id} ended ${seen[0]!.status}`);
  }
}

/**
 * What a client saw is what was stored: every item it saw completed is, in the stored turn it belongs
 * to, exactly once and with the same content, and in no other stored turn.
 */
export function assertSeenItemsStored(storedTurns: readonly Json[], events: readonly Json[], what: string): void {
  const byTurn = new Map<string, Json>(storedTurns.map((t) => [t.id as string, t]));
  for (const f of events) {
    if (f.method !== "item/completed") continue;
    const { turnId, item } = f.params as { turnId: string; item: Json };
    const turn = byTurn.get(turnId);
    assert.ok(turn, `${what}: turn ${turnId} of completed ${item.type} ${item.id} is stored`);
    const copies = (turn.items as Json[]).filter((i) => i.id === item.id);
    assert.equal(copies.length, 1, `${what}: completed ${item.type} ${item.id} is stored ${copies.length} times in turn ${turnId}`);
    assert.deepEqual(copies[0], item, `${what}: stored ${item.type} ${item.id} differs from what the client saw completed`);
    const elsewhere = storedTurns.filter((t) => t.id !== turnId && (t.items as Json[]).some((i) => i.id === item.id)).map((t) => t.id);
    assert.deepEqual(elsewhere, [], `${what}: ${item.type} ${item.id} of turn ${turnId} is stored in other turns too`);
  }
}

/** The turns stored for a thread, with their items, as the client reads them. */
export async function storedTurns(c: TestClient, threadId: string): Promise<Json[]> {
  const read = await c.call("thread/read", { threadId, includeTurns: true });
  return read.thread.turns as Json[];
}

/** The interruption marker is the same text each time by design; every other history entry is unique. */
const TURN_ABORTED = "<turn_aborted>";

/** What makes a model-history entry itself: its call id for calls and their outputs, else role and content. */
function historyKey(entry: Json): string | undefined {
  if (entry.type === "function_call") return `function_call ${entry.call_id}`;
  if (entry.type === "function_call_output") return `function_call_output ${entry.call_id}`;
  if (entry.type === "message" || entry.role !== undefined) {
    const content = JSON.stringify(entry.content);
    if (content.includes(TURN_ABORTED)) return undefined;
    return `${entry.role} message ${content}`;
  }
  return `${entry.type} ${JSON.stringify(entry)}`;
}

/**
 * No duplicate in the model history: in each request the model received for a thread, no function call
 * or call output (by call id) and no message appears twice. For threads whose turns all have distinct
 * inputs and answers, as the chaos scripts give them.
 */
export function assertNoRepeatedHistory(requests: readonly { input?: unknown }[], what: string): void {
  requests.forEach((r, n) => {
    const seen = new Set<string>();
    for (const entry of Array.isArray(r.input) ? (r.input as Json[]) : []) {
      const key = historyKey(entry);
      if (key === undefined) continue;
      assert.ok(!seen.has(key), `${what}: model request ${n + 1} repeats ${key.slice(0, 200)}`);
      seen.add(key);
    }
  });
}

/** What one subscriber of a thread saw after a fault, and what the store and the model hold of that thread. */
export interface Sample {
  /** Names the subscriber and thread in failure messages. */
  what: string;
  /** The subscriber's feed of the thread ({@link threadEvents}), in arrival order. */
  events: readonly Json[];
  /** Turns that must have ended for the subscriber besides those it saw start. */
  mustEnd: readonly string[];
  /** The thread's stored turns ({@link storedTurns}), read after the feed. */
  stored: readonly Json[];
  /** The requests the model received for the thread. */
  modelRequests: readonly { input?: unknown }[];
}

/**
 * The five invariants of a sample: every turn ends, every item seen completed is stored once, no
 * duplicate in the model history, gapless seq, no older epoch after a newer one.
 */
export function assertInvariants(sample: Sample): void {
  const { what, events } = sample;
  assertTurnsEnded(events, what, sample.mustEnd);
  assertSeenItemsStored(sample.stored, events, what);
  assertNoRepeatedHistory(sample.modelRequests, what);
  assertSeqContinuity(events, what);
  assertEpochsNeverGoBack(events, what);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/**
 * A request as a well-behaved client sends it: an overload answer (-32001) is retried after its
 * `retryAfterMs`, up to a deadline. Under chaos a host may be briefly unavailable; it says so.
 */
export async function callRetrying(c: TestClient, method: string, params: unknown, deadlineMs = 20_000): Promise<Json> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await c.call(method, params);
    } catch (err) {
      const rpc = (err as { rpc?: { code: number; data?: { retryAfterMs?: number } } }).rpc;
      if (rpc?.code !== -32001 || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, Math.max(50, rpc.data?.retryAfterMs ?? 250))));
    }
  }
}
