import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";
import { MeshMethod } from "@threadmesh/protocol";

describe("session host: turns", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("a text turn replies first, then streams in the reference order", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [{ output: [{ type: "message", id: "msg-1", text: ["Hello", " there", "!"] }], usage: { inputTokens: 100, outputTokens: 20 } }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hi"), clientUserMessageId: "cu-1" });
    assert.equal(turn.status, "inProgress");
    assert.equal(turn.itemsView, "notLoaded");
    assert.equal(turn.startedAt, null);
    const completed = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.deepEqual(c.trace(threadId, from), [
      "reply:turn/start",
      "thread/status/changed:active[]",
      "turn/started",
      "item/started:userMessage",
      "item/completed:userMessage",
      "item/started:agentMessage",
      "item/agentMessage/delta×3",
      "item/completed:agentMessage",
      "thread/tokenUsage/updated",
      "account/rateLimits/updated",
      "thread/status/changed:idle",
      "turn/completed:completed",
    ]);
    const t = completed.params.turn;
    assert.equal(t.itemsView, "summary");
    assert.deepEqual(
      t.items.map((i: { id: string; text: string }) => [i.id, i.text]),
      [["msg-1", "Hello there!"]],
    );
    assert.equal(typeof t.durationMs, "number");
    const user = c.notifications(threadId, from).find((f) => f.method === "item/started" && f.params.item.type === "userMessage")!;
    assert.deepEqual(user.params.item.content, [{ type: "text", text: "hi", text_elements: [] }]);
    assert.equal(user.params.item.clientId, "cu-1");
    const usage = c.notifications(threadId, from).find((f) => f.method === "thread/tokenUsage/updated")!;
    assert.deepEqual(usage.params.tokenUsage.last, { totalTokens: 120, inputTokens: 100, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 20, reasoningOutputTokens: 0 });
    assert.equal(usage.params.tokenUsage.modelContextWindow, 258400);
    const req = h.sim.requests(threadId)[0]!;
    assert.equal(req.prompt_cache_key, threadId);
    assert.equal(req.stream, true);
    assert.equal(req.store, false);
    assert.equal(req.parallel_tool_calls, false);
    assert.deepEqual(
      (req.tools as Array<{ name: string }>).map((t) => t.name),
      ["shell", "apply_patch", "update_plan"],
    );
  });

  test("reasoning completes before the message that follows it (§5.2 rule 8)", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      {
        output: [
          { type: "reasoning", id: "rs-1", summary: [["Think", "ing"], ["More"]] },
          { type: "message", id: "msg-2", text: ["Done", "."] },
        ],
      },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("think"), effort: "high", summary: "detailed" });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const trace = c.trace(threadId, from);
    // The effort and summary overrides changed the thread's settings: announced first, as Codex.
    assert.equal(trace[0], "thread/settings/updated");
    assert.deepEqual(trace.slice(6, 15), [
      "item/started:reasoning",
      "item/reasoning/summaryPartAdded",
      "item/reasoning/summaryTextDelta×2",
      "item/reasoning/summaryPartAdded",
      "item/reasoning/summaryTextDelta×1",
      "item/completed:reasoning",
      "item/started:agentMessage",
      "item/agentMessage/delta×2",
      "item/completed:agentMessage",
    ]);
    const parts = c.notifications(threadId, from).filter((f) => f.method === "item/reasoning/summaryPartAdded").map((f) => f.params.summaryIndex);
    assert.deepEqual(parts, [0, 1]);
    const reasoning = c.notifications(threadId, from).find((f) => f.method === "item/completed" && f.params.item.type === "reasoning")!;
    assert.deepEqual(reasoning.params.item.summary, ["Thinking", "More"]);
    assert.deepEqual(reasoning.params.item.content, []);
    assert.deepEqual(h.sim.requests(threadId)[0]!.reasoning, { effort: "high", summary: "detailed" });
  });

  test("turn/start overrides persist for later turns; outputSchema applies to one turn", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { developerInstructions: "Be terse." });
    h.sim.script(threadId, [{ output: [{ type: "message", text: '{"title":"x"}' }] }, { output: [{ type: "message", text: "plain" }] }]);
    const schema = { type: "object", properties: { title: { type: "string" } } };
    let from = c.frames.length;
    const first = await c.call("turn/start", { threadId, input: text("title"), model: "other-model", outputSchema: schema });
    await c.waitTurnCompleted(threadId, first.turn.id, from);
    from = c.frames.length;
    const second = await c.call("turn/start", { threadId, input: text("again") });
    await c.waitTurnCompleted(threadId, second.turn.id, from);
    const [r1, r2] = h.sim.requests(threadId);
    assert.deepEqual(r1!.text, { format: { type: "json_schema", name: "output", schema, strict: false } });
    assert.equal(r2!.text, undefined);
    assert.equal(r1!.model, "other-model");
    assert.equal(r2!.model, "other-model");
    assert.deepEqual((r1!.input as Array<Record<string, unknown>>)[0], { type: "message", role: "developer", content: [{ type: "input_text", text: "Be terse." }] });
    const read = await c.call("thread/read", { threadId });
    assert.equal(read.thread.model, "other-model");
  });
});

describe("session host: the owner's recent events", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("the owner answers mesh/thread/recentEvents with what it published after afterSeq, byte for byte", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [{ output: [{ type: "message", id: "msg-r", text: ["a", "b"] }] }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hi") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const seen = c.notifications(threadId, from).filter((f) => typeof f.seq === "number");
    const middle = seen[Math.floor(seen.length / 2)]!.seq as number;
    const { events } = await c.call(MeshMethod.RecentEvents, { threadId, afterSeq: middle });
    const frames = (events as Array<{ headers: Record<string, string>; data: string }>).flatMap((e) => e.data.split("\n").filter((l) => l.startsWith("{\"method\"")));
    // A batch reaching past afterSeq comes whole; its earlier frames are the router's to skip.
    const seqs = frames.map((f) => (JSON.parse(f) as { seq: number }).seq).filter((s) => s > middle);
    assert.deepEqual(seqs, seen.map((f) => f.seq as number).filter((s) => s > middle));
    const err = await c.error(MeshMethod.RecentEvents, { threadId, afterSeq: "x" });
    assert.equal(err.code, -32602);
  });
});
