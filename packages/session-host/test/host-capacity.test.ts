import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { BusError } from "@threadmesh/mesh";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";

describe("session host: idle unload", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ config: { threadUnloadDelayMs: 150 } });
  });
  after(async () => {
    await h.close();
  });

  test("a thread with no subscribers and no activity unloads: notLoaded, then thread/closed", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [{ output: [{ type: "message", text: ["slow", " reply"] }], chunkDelayMs: 400 }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hi") });
    assert.deepEqual(await c.call("thread/unsubscribe", { threadId }), { status: "unsubscribed" });
    // The running turn keeps the thread loaded although nobody is subscribed.
    await c.waitTurnCompleted(threadId, turn.id, from);
    const closed = await c.waitForMethod("thread/closed", threadId, from);
    assert.ok(closed.kind === "n" && closed.drop);
    assert.deepEqual(c.trace(threadId, from).slice(-3), ["turn/completed:completed", "thread/status/changed:notLoaded", "thread/closed"]);
    assert.ok(!(await c.call("thread/loaded/list", {})).data.includes(threadId));
    const resumed = await c.call("thread/resume", { threadId, excludeTurns: true });
    assert.deepEqual(resumed.thread.status, { type: "idle" });
  });

  test("a subscribed thread stays loaded", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    const other = await startThread(c);
    // The second thread unloads after the delay; the first one, still subscribed, does not.
    await c.call("thread/unsubscribe", { threadId: other.threadId });
    await c.waitForMethod("thread/closed", other.threadId);
    assert.ok((await c.call("thread/loaded/list", {})).data.includes(threadId));
  });
});

describe("session host: bounded mailbox", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ config: { mailboxCapacity: 1, overloadRetryAfterMs: 75 } });
  });
  after(async () => {
    await h.close();
  });

  test("a full thread mailbox answers -32001 with retryAfterMs; the thread keeps serving", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    const replies = await Promise.all(Array.from({ length: 6 }, () => c.send("thread/read", { threadId, includeTurns: true })));
    const overloaded = replies.filter((r) => !r.ok);
    assert.ok(overloaded.length >= 1, "at least one command found the mailbox full");
    for (const r of overloaded) {
      assert.ok(!r.ok);
      assert.deepEqual(r.error, { code: -32001, message: "Server overloaded; retry later.", data: { retryAfterMs: 75, reason: "threadMailboxFull" } });
    }
    assert.ok(replies.some((r) => r.ok));
    assert.ok((await c.send("thread/read", { threadId })).ok);
  });
});

describe("session host: drain and close", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("drain stops placement and new turns, interrupts turns still running at the deadline; close is idempotent", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [{ output: [{ type: "message", text: ["never", " ends"] }], fail: { kind: "hang", afterEvents: 6 } }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hang") });
    await c.waitForMethod("item/agentMessage/delta", threadId, from);
    assert.equal(h.host.state, "running");
    await h.host.drain({ deadlineMs: 50 });
    assert.equal(h.host.state, "draining");
    const done = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.equal(done.params.turn.status, "interrupted");
    await assert.rejects(c.send("thread/start", {}), (err: unknown) => err instanceof BusError && err.kind === "noResponders");
    assert.deepEqual(await c.error("turn/start", { threadId, input: text("more") }), {
      code: -32001,
      message: "Server is draining; retry shortly",
      data: { reason: "serverShuttingDown", retryAfterMs: 250 },
    });
    assert.ok((await c.send("thread/read", { threadId })).ok, "loaded threads are still served while draining");
    await h.host.close();
    await h.host.close();
    assert.equal(h.host.state, "stopped");
    assert.equal(h.host.loadedThreads, 0);
  });
});
