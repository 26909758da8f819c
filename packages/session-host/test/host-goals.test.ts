import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, startThread, type Harness } from "./host-harness.ts";
import type { Frame } from "./host-test-client.ts";

describe("session host: thread goals and background terminals (Codex clients call them)", () => {
  let h: Harness;
  before(async () => {
    // The host under test is not the one measuring load: a busy shared machine must not refuse its turns.
    h = await startHarness({ config: { turnLagBudgetMs: 60_000 } });
  });
  after(async () => {
    await h.close();
  });

  test("a goal is set, read, updated and cleared with Codex's answers and notifications", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    assert.deepEqual(await c.call("thread/goal/get", { threadId }), { goal: null });
    assert.equal((await c.error("thread/goal/set", { threadId, status: "paused" })).message, `cannot update goal for thread ${threadId}: no goal exists`);
    assert.equal((await c.error("thread/goal/set", { threadId, objective: "  " })).message, "goal objective must not be empty");

    let from = c.frames.length;
    const { goal } = await c.call("thread/goal/set", { threadId, objective: "ship it", tokenBudget: 1000 });
    assert.equal(goal.objective, "ship it");
    assert.equal(goal.status, "active");
    assert.equal(goal.tokenBudget, 1000);
    assert.equal(goal.tokensUsed, 0);
    const updated = await c.waitForMethod("thread/goal/updated", threadId, from);
    assert.deepEqual((updated as { params: unknown }).params, { threadId, turnId: null, goal });

    const paused = await c.call("thread/goal/set", { threadId, status: "paused" });
    assert.equal(paused.goal.objective, "ship it");
    assert.equal(paused.goal.status, "paused");
    assert.deepEqual(await c.call("thread/goal/get", { threadId }), paused);

    from = c.frames.length;
    assert.deepEqual(await c.call("thread/goal/clear", { threadId }), { cleared: true });
    await c.waitForMethod("thread/goal/cleared", threadId, from);
    assert.deepEqual(await c.call("thread/goal/clear", { threadId }), { cleared: false });
    assert.deepEqual(await c.call("thread/goal/get", { threadId }), { goal: null });
  });

  test("a resume tells every subscriber the goal, or that there is none", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    await c.call("turn/start", { threadId, input: [{ type: "text", text: "hi" }] }).then((r) => c.waitTurnCompleted(threadId, r.turn.id));
    let from = c.frames.length;
    await c.call("thread/resume", { threadId, excludeTurns: true });
    await c.waitForMethod("thread/goal/cleared", threadId, from);
    await c.call("thread/goal/set", { threadId, objective: "keep going", status: "paused" });
    from = c.frames.length;
    await c.call("thread/resume", { threadId, excludeTurns: true });
    const announced = await c.waitForMethod("thread/goal/updated", threadId, from);
    assert.equal((announced as Frame & { kind: "n" }).params.goal.objective, "keep going");
  });

  test("background terminals: none listed, cleaning and terminating find nothing, for loaded and unknown threads alike", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    assert.deepEqual(await c.call("thread/backgroundTerminals/list", { threadId }), { data: [], nextCursor: null });
    assert.deepEqual(await c.call("thread/backgroundTerminals/clean", { threadId }), {});
    assert.deepEqual(await c.call("thread/backgroundTerminals/terminate", { threadId, processId: "1" }), { terminated: false });
    const unknown = "019d0000-0000-7000-8000-000000000000";
    assert.equal((await c.error("thread/backgroundTerminals/list", { threadId: unknown })).message, `thread not found: ${unknown}`);
    assert.equal((await c.error("thread/goal/get", { threadId: unknown })).message, `thread not found: ${unknown}`);
  });
});
