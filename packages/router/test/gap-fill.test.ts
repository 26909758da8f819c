import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startRouter, type Frame, type Harness, type TestClient } from "./harness.ts";

type Json = Record<string, any>;

async function startThread(c: TestClient): Promise<string> {
  const r = await c.request("thread/start", {});
  return (r.result as { thread: { id: string } }).thread.id;
}

/** Seqs of the thread's notifications a client received, in arrival order. */
function seqs(c: TestClient, threadId: string): number[] {
  return c.frames
    .filter((f: Frame) => typeof f.method === "string" && !("id" in f) && (f.params as Json | undefined)?.threadId === threadId)
    .map((f) => f.seq as number);
}

describe("a live feed that lost events is made whole from the event log", () => {
  let h: Harness;
  afterEach(() => h.close());

  test("events the router's subscription lost are delivered, in order, before the live event that revealed the gap", async () => {
    h = await startRouter({}, { replayWindow: {} });
    const a = await startThread((await h.client()));
    const c = await h.client();
    await c.request("thread/resume", { threadId: a });
    const before = await h.metric("tm_router_gap_fills_total", { outcome: "recovered" });
    h.host.notify(a, "turn/started", { threadId: a });
    await c.waitFor((f) => f.method === "turn/started");
    h.host.notify(a, "item/started", { threadId: a }, { lost: true });
    h.host.notify(a, "item/agentMessage/delta", { threadId: a, delta: "x" }, { lost: true });
    const last = h.host.notify(a, "item/completed", { threadId: a });
    await c.waitFor((f) => f.seq === last);
    assert.deepEqual(seqs(c, a), [last - 3, last - 2, last - 1, last]);
    assert.deepEqual(
      c.frames.filter((f) => f.seq !== undefined).map((f) => f.method),
      ["turn/started", "item/started", "item/agentMessage/delta", "item/completed"],
    );
    assert.equal(await h.metric("tm_router_gap_fills_total", { outcome: "recovered" }), before + 1);
  });

  test("a follower that resumes with afterSeq gets the end of a turn its live feed lost", async () => {
    h = await startRouter({}, { replayWindow: {} });
    const c = await h.client();
    const a = await startThread(c);
    const first = h.host.notify(a, "turn/started", { threadId: a });
    await c.waitFor((f) => f.seq === first);
    const end = h.host.notify(a, "turn/completed", { threadId: a, turn: { id: "t" } }, { lost: true });
    const res = await c.request("thread/resume", { threadId: a, afterSeq: first });
    assert.equal((res.result as Json).replay.recovered, true);
    await c.waitFor((f) => f.seq === end);
    assert.deepEqual(seqs(c, a), [first, end]);
  });

  test("a gap the log no longer holds closes the thread's followers with the cursor to resume from", async () => {
    h = await startRouter({}, { replayWindow: { maxEventsPerThread: 2 } });
    const c = await h.client();
    const a = await startThread(c);
    const first = h.host.notify(a, "turn/started", { threadId: a });
    await c.waitFor((f) => f.seq === first);
    for (let i = 0; i < 4; i++) h.host.notify(a, "item/agentMessage/delta", { threadId: a, delta: String(i) }, { lost: true });
    h.host.notify(a, "item/completed", { threadId: a });
    const closed = await c.closed;
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, new RegExp(`thread ${a} lost in transit; resume with afterSeq=${first}$`));
    assert.deepEqual(seqs(c, a), [first], "nothing after the hole was written");
    assert.equal(await h.metric("tm_router_gap_fills_total", { outcome: "unrecovered" }), 1);
  });
});
