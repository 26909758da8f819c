import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TENANT, startHarness, startThread, text, type Harness } from "./host-harness.ts";

type Json = Record<string, any>;

describe("session host: restart and ownership", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("after a restart on the same database, resume + turn sends the whole history to the model", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "never", sandbox: "danger-full-access" });
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-echo", arguments: { command: ["bash", "-lc", "echo forty-two"] } }] },
      { output: [{ type: "message", text: "Remember the number 42." }] },
      { output: [{ type: "message", text: "It was 42." }] },
    ]);
    let from = c.frames.length;
    const first = await c.call("turn/start", { threadId, input: text("pick a number") });
    await c.waitTurnCompleted(threadId, first.turn.id, from);
    const seqBefore = Math.max(...c.notifications(threadId).map((f) => f.seq));

    from = c.frames.length;
    await h.restart();
    const closed = await c.waitForMethod("thread/closed", threadId, from);
    assert.ok(closed.kind === "n" && closed.drop, "shutdown ends the subscriptions (tm-d)");
    assert.deepEqual(c.trace(threadId, from), ["thread/status/changed:notLoaded", "thread/closed"]);

    from = c.frames.length;
    const resumed = await c.call("thread/resume", { threadId });
    assert.equal(resumed.thread.turns.length, 1);
    assert.deepEqual(resumed.thread.turns[0].items.map((i: Json) => i.type), ["userMessage", "commandExecution", "agentMessage"]);
    const { turn } = await c.call("turn/start", { threadId, input: text("what was it?") });
    const done = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.equal(done.params.turn.items[0].text, "It was 42.");

    const input = h.sim.requests(threadId)[2]!.input as Json[];
    assert.deepEqual(
      input.map((i) => (i.type === "message" ? `${i.role}:${i.content[0].text}` : `${i.type}:${i.call_id}`)),
      ["user:pick a number", "function_call:call-echo", "function_call_output:call-echo", "assistant:Remember the number 42.", "user:what was it?"],
    );
    const after = c.notifications(threadId, from);
    assert.ok(after.every((f) => f.epoch === 2), "the new owner stamps its own epoch");
    assert.ok(after[0]!.seq > seqBefore, "sequence numbers continue after the restart");
    assert.equal((await h.store.getThread(TENANT, threadId))!.ownerEpoch, 2);
    const usage = after.find((f) => f.method === "thread/tokenUsage/updated")!;
    assert.ok(usage.params.tokenUsage.total.totalTokens > usage.params.tokenUsage.last.totalTokens, "usage totals survive the restart");
  });

  test("a turn cut off by a restart is stored as interrupted and the model is told", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "message", text: ["Long", " story"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "back" }] },
    ]);
    let from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("start") });
    await c.waitForMethod("item/agentMessage/delta", threadId, from);
    await h.restart();
    const stored = await h.store.getTurn(TENANT, threadId, turn.id);
    assert.equal(stored!.status, "interrupted");
    from = c.frames.length;
    await c.call("thread/resume", { threadId, excludeTurns: true });
    const next = await c.call("turn/start", { threadId, input: text("again") });
    await c.waitTurnCompleted(threadId, next.turn.id, from);
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /turn_aborted/);
  });
});
