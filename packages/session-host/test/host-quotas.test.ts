import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { resolveLimits, sameLimitsForAll } from "@threadmesh/protocol";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";

describe("session host: loaded threads per tenant", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ config: { limitsFor: sameLimitsForAll(resolveLimits({ maxThreadsPerTenant: 2 })) } });
  });
  after(async () => {
    await h.close();
  });

  test("at the quota a start is refused with -32001 tenantThreadLimit; an idle thread is unloaded to make room", async () => {
    const c = h.client;
    const a = await startThread(c);
    const b = await startThread(c);
    h.sim.script(a.threadId, [{ output: [{ type: "message", text: "stored" }] }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId: a.threadId, input: text("hi") });
    await c.waitTurnCompleted(a.threadId, turn.id, from);

    // Both threads are subscribed: nothing may be unloaded.
    const refused = await c.error("thread/start", {});
    assert.equal(refused.code, -32001);
    assert.deepEqual(refused.data, { reason: "tenantThreadLimit", retryAfterMs: 1000, limit: 2 });

    // Once A has no subscriber it is idle: the next start unloads it (as the idle timer would) and succeeds.
    assert.deepEqual(await c.call("thread/unsubscribe", { threadId: a.threadId }), { status: "unsubscribed" });
    const mark = c.frames.length;
    const third = await startThread(c);
    await c.waitForMethod("thread/closed", a.threadId, mark);
    assert.deepEqual(c.trace(a.threadId, mark), ["thread/status/changed:notLoaded", "thread/closed"]);
    const loaded = (await c.call("thread/loaded/list", {})).data as string[];
    assert.deepEqual(new Set(loaded), new Set([b.threadId, third.threadId]));

    // Resuming A would load a third thread while B and C are in use: refused the same way.
    const resume = await c.error("thread/resume", { threadId: a.threadId, excludeTurns: true });
    assert.equal(resume.code, -32001);
    assert.equal((resume.data as { reason: string }).reason, "tenantThreadLimit");
  });
});

describe("session host: commands served at once", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ config: { maxConcurrentCommands: 1, overloadRetryAfterMs: 60 } });
  });
  after(async () => {
    await h.close();
  });

  test("beyond maxConcurrentCommands a command is answered -32001 hostBusy at once; the host keeps serving", async () => {
    const c = h.client;
    const replies = await Promise.all(Array.from({ length: 6 }, () => c.send("thread/list", {})));
    const busy = replies.filter((r) => !r.ok);
    assert.ok(busy.length >= 1, "at least one listing found the host busy");
    for (const r of busy) assert.deepEqual(!r.ok && r.error, { code: -32001, message: "Server overloaded; retry later.", data: { retryAfterMs: 60, reason: "hostBusy" } });
    assert.ok(replies.some((r) => r.ok));
    assert.ok((await c.send("thread/list", {})).ok, "served again once the others are answered");
  });
});
