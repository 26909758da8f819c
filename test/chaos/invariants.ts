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

/**
 * No completed item lost or duplicated: every item a client saw completed is stored exactly once,
 * and the stored items of the thread have distinct ids.
 */
export async function assertItemsStored(c: TestClient, threadId: string, seen: readonly Json[]): Promise<void> {
  const read = await c.call("thread/read", { threadId, includeTurns: true });
  const stored: string[] = read.thread.turns.flatMap((t: Json) => t.items.map((i: Json) => i.id as string));
  assert.equal(new Set(stored).size, stored.length, `thread ${threadId}: stored item ids are distinct`);
  for (const f of seen) {
    if (f.method !== "item/completed") continue;
    assert.ok(stored.includes(f.params.item.id), `thread ${threadId}: completed ${f.params.item.type} ${f.params.item.id} is stored`);
  }
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
