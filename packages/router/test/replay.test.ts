import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENVELOPE_VERSION } from "@threadmesh/protocol";
import { startRouter, type Frame, type Harness, type TestClient } from "./harness.ts";

type Json = Record<string, any>;

async function startThread(c: TestClient): Promise<string> {
  const r = await c.request("thread/start", {});
  return (r.result as { thread: { id: string } }).thread.id;
}

/** Thread notifications a client received, as `[method, seq]`, from frame index `from`. */
function events(c: TestClient, threadId: string, from = 0): Array<[string, number]> {
  return c.frames
    .slice(from)
    .filter((f: Frame) => typeof f.method === "string" && !("id" in f) && (f.params as Json | undefined)?.threadId === threadId && typeof f.seq === "number")
    .map((f) => [f.method as string, f.seq as number]);
}

describe("thread/resume with afterSeq replays what the client missed", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({}, { replayWindow: { maxEventsPerThread: 8 } });
  });
  after(() => h.close());

  test("the events after afterSeq come once each, in order, then the live feed", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const s1 = h.host.notify(threadId, "turn/started", { threadId });
    const s2 = h.host.notify(threadId, "item/started", { threadId });
    const [s3, s4] = h.host.batch(threadId, [
      ["item/agentMessage/delta", { threadId, delta: "a" }],
      ["item/agentMessage/delta", { threadId, delta: "b" }],
    ]);
    const s5 = h.host.notify(threadId, "item/completed", { threadId });
    await a.waitFor((f) => f.seq === s5);

    const b = await h.client();
    const res = await b.request("thread/resume", { threadId, afterSeq: s2 });
    assert.deepEqual((res.result as Json).replay, { recovered: true, events: 2 });
    const s6 = h.host.notify(threadId, "turn/completed", { threadId });
    await b.waitFor((f) => f.seq === s6);
    assert.deepEqual(events(b, threadId), [
      ["item/agentMessage/delta", s3],
      ["item/agentMessage/delta", s4],
      ["item/completed", s5],
      ["turn/completed", s6],
    ]);
    assert.ok(s1 < s2);
    assert.equal(await h.metric("tm_router_replay_total", { outcome: "recovered" }), 1);
  });

  test("an event published while the resume is in flight is both held live and in the window, and arrives once", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const s1 = h.host.notify(threadId, "turn/started", { threadId });
    let s2 = 0;
    h.host.handler = (r) => {
      if (r.env.method !== "thread/resume") return undefined;
      s2 = h.host.notify(threadId, "item/started", { threadId });
      return { v: ENVELOPE_VERSION, ok: true, result: { thread: { id: threadId } }, subscribe: threadId, lastSeq: s2 };
    };
    try {
      const b = await h.client();
      const res = await b.request("thread/resume", { threadId, afterSeq: s1 - 1 });
      assert.equal((res.result as Json).replay.recovered, true);
      const s3 = h.host.notify(threadId, "item/completed", { threadId });
      await b.waitFor((f) => f.seq === s3);
      assert.deepEqual(events(b, threadId), [
        ["turn/started", s1],
        ["item/started", s2],
        ["item/completed", s3],
      ]);
    } finally {
      h.host.handler = undefined;
    }
  });

  test("when the window lost the start of the gap the response says so and only events after the snapshot follow", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const first = h.host.notify(threadId, "turn/started", { threadId });
    let last = first;
    for (let i = 0; i < 12; i++) last = h.host.notify(threadId, "item/agentMessage/delta", { threadId, delta: String(i) });
    await a.waitFor((f) => f.seq === last);
    const b = await h.client();
    const res = await b.request("thread/resume", { threadId, afterSeq: first });
    assert.deepEqual((res.result as Json).replay, { recovered: false, events: 0 });
    const live = h.host.notify(threadId, "turn/completed", { threadId });
    await b.waitFor((f) => f.seq === live);
    assert.deepEqual(events(b, threadId), [["turn/completed", live]]);
    assert.equal(await h.metric("tm_router_replay_total", { outcome: "unrecovered" }), 1);
  });

  test("afterSeq at or beyond the snapshot replays nothing and counts as recovered", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const s = h.host.notify(threadId, "turn/started", { threadId });
    await a.waitFor((f) => f.seq === s);
    const b = await h.client();
    const res = await b.request("thread/resume", { threadId, afterSeq: s + 100 });
    assert.deepEqual((res.result as Json).replay, { recovered: true, events: 0 });
  });

  test("a superseded owner's late events are not replayed", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const s1 = h.host.notify(threadId, "turn/started", { threadId }, { epoch: 1 });
    // The new owner (epoch 2) continues at s1 + 1; the old one publishes one more late event with that seq.
    h.host.notify(threadId, "item/started", { threadId, stale: true }, { epoch: 1, seq: s1 + 1 });
    const s2 = h.host.notify(threadId, "item/started", { threadId }, { epoch: 2, seq: s1 + 1 });
    const s3 = h.host.notify(threadId, "item/completed", { threadId }, { epoch: 2, seq: s1 + 2 });
    await a.waitFor((f) => f.seq === s3);
    const b = await h.client();
    h.host.handler = (r) =>
      r.env.method === "thread/resume" ? { v: ENVELOPE_VERSION, ok: true, result: { thread: { id: threadId } }, subscribe: threadId, lastSeq: s3 } : undefined;
    try {
      const res = await b.request("thread/resume", { threadId, afterSeq: s1 - 1 });
      assert.equal((res.result as Json).replay.recovered, true);
      await b.waitFor((f) => f.seq === s3);
      assert.deepEqual(events(b, threadId), [
        ["turn/started", s1],
        ["item/started", s2],
        ["item/completed", s3],
      ]);
      assert.ok(!b.frames.some((f) => (f.params as Json | undefined)?.stale === true));
    } finally {
      h.host.handler = undefined;
    }
  });
});

describe("a resume whose replay read fails while the router drains", () => {
  let h: Harness;
  let failReads = false;
  before(async () => {
    h = await startRouter(
      {},
      {
        replayWindow: { maxEventsPerThread: 64 },
        wrapEventLog: (log) => ({
          read: (tenant, threadId, afterSeq) => (failReads ? Promise.reject(new Error("connection closed")) : log.read(tenant, threadId, afterSeq)),
          tail: (tenant, threadId) => log.tail(tenant, threadId),
          close: () => log.close(),
        }),
      },
    );
  });
  after(() => h.close());

  test("is refused as retryable (-32001 serverShuttingDown), not answered as an unrecovered replay, and joins nothing", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const s1 = h.host.notify(threadId, "turn/started", { threadId });
    const s2 = h.host.notify(threadId, "item/started", { threadId });
    await a.waitFor((f) => f.seq === s2);
    const b = await h.client();
    let draining: Promise<void> | undefined;
    h.host.handler = (r) => {
      if (r.env.method !== "thread/resume") return undefined;
      // The router starts draining while the owner takes the snapshot; its event log is gone already.
      draining = h.router.drain({ deadlineMs: 2_000 });
      return { v: ENVELOPE_VERSION, ok: true, result: { thread: { id: threadId } }, subscribe: threadId, lastSeq: s2 };
    };
    failReads = true;
    try {
      const res = await b.request("thread/resume", { threadId, afterSeq: s1 - 1 });
      assert.equal(res.result, undefined, "no resume result");
      const err = res.error as Json;
      assert.equal(err.code, -32001);
      assert.equal(err.data.reason, "serverShuttingDown");
      assert.ok(err.data.retryAfterMs > 0);
      assert.equal(await h.metric("tm_router_replay_total", { outcome: "unrecovered" }), 0, "not counted as an unrecovered replay");
    } finally {
      h.host.handler = undefined;
      await draining;
    }
  });
});
