import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";
import type { Frame } from "./host-test-client.ts";

type Json = Record<string, any>;

describe("session host: interrupt and steer", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("interrupt during streaming: reply, idle, interrupted turn; the next request carries <turn_aborted>", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "message", text: ["This re", "ply str", "eams"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "Follow-up after interrupt." }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("Tell me a long story.") });
    await c.waitForMethod("item/agentMessage/delta", threadId, from);
    const r = await c.call("turn/interrupt", { threadId, turnId: turn.id });
    assert.deepEqual(r, {});
    const done = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.deepEqual(done.params.turn.items, []);
    assert.equal(done.params.turn.itemsView, "notLoaded");
    assert.equal(done.params.turn.error, null);
    const trace = c.trace(threadId, from);
    assert.deepEqual(trace.slice(-3), ["reply:turn/interrupt", "thread/status/changed:idle", "turn/completed:interrupted"]);
    assert.ok(!trace.includes("item/completed:agentMessage"), "the streaming message gets no item/completed");

    assert.deepEqual(await c.error("turn/interrupt", { threadId, turnId: turn.id }), { code: -32600, message: "no active turn to interrupt" });
    const next = c.frames.length;
    const second = await c.call("turn/start", { threadId, input: text("Are you still there?") });
    await c.waitTurnCompleted(threadId, second.turn.id, next);
    const input = h.sim.requests(threadId)[1]!.input as Json[];
    assert.deepEqual(
      input.map((i) => `${i.role}:${i.content[0].text.split("\n")[0]}`),
      ["user:Tell me a long story.", "user:<turn_aborted>", "user:Are you still there?"],
    );
  });

  test("interrupt with a wrong turn id names the active one", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [{ output: [{ type: "message", text: ["a", "b"] }], fail: { kind: "hang", afterEvents: 5 } }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hang") });
    assert.deepEqual(await c.error("turn/interrupt", { threadId, turnId: "wrong-turn-id" }), {
      code: -32600,
      message: `expected active turn id wrong-turn-id but found ${turn.id}`,
    });
    await c.call("turn/interrupt", { threadId, turnId: turn.id });
    await c.waitTurnCompleted(threadId, turn.id, from);
  });

  test("interrupt during a pending approval resolves the request after turn/completed", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-int", arguments: { command: ["bash", "-lc", "true"], sandbox_permissions: "require_escalated" } }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("go") });
    const req = (await c.waitFor((f) => f.kind === "r" && f.threadId === threadId, from)) as Frame & { kind: "r" };
    await c.call("turn/interrupt", { threadId, turnId: turn.id });
    await c.waitForMethod("item/commandExecution/requestApproval", threadId, from, (f) => f.kind === "x");
    // As Codex: the usage of the request that asked for the command, reported before the reply.
    assert.deepEqual(c.trace(threadId, from).slice(-7), [
      "request:item/commandExecution/requestApproval",
      "thread/tokenUsage/updated",
      "account/rateLimits/updated",
      "reply:turn/interrupt",
      "thread/status/changed:idle",
      "turn/completed:interrupted",
      "resolved:item/commandExecution/requestApproval",
    ]);
    const late = await c.respond(threadId, req.requestKey, { result: { decision: "accept" } });
    assert.deepEqual(late.ok && late.result, { accepted: false });
    assert.equal(h.sim.requests(threadId).length, 1);
  });

  test("interrupt kills a running command", { timeout: 60_000 }, async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "never", sandbox: "danger-full-access" });
    h.sim.script(threadId, [{ output: [{ type: "function_call", name: "shell", callId: "call-sleep", arguments: { command: ["bash", "-lc", "echo started; sleep 3600"], timeout_ms: 7_200_000 } }] }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("sleep") });
    await c.waitForMethod("item/commandExecution/outputDelta", threadId, from);
    await c.call("turn/interrupt", { threadId, turnId: turn.id });
    // The command would run for an hour: the turn ends only because the interrupt killed it.
    await c.waitTurnCompleted(threadId, turn.id, from);
    assert.ok(!c.trace(threadId, from).includes("item/completed:commandExecution:failed"));
  });

  test("steer while a message streams abandons that response and re-requests with the steered input", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "message", text: ["Working", " on", " it"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "Steered answer." }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("first") });
    await c.waitForMethod("item/agentMessage/delta", threadId, from);
    assert.deepEqual(await c.error("turn/steer", { threadId, expectedTurnId: "nope", input: text("x") }), {
      code: -32600,
      message: `expected active turn id \`nope\` but found \`${turn.id}\``,
    });
    const steer = await c.call("turn/steer", { threadId, expectedTurnId: turn.id, input: text("also this"), clientUserMessageId: "client-1" });
    assert.deepEqual(steer, { turnId: turn.id });
    const done = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.equal(done.params.turn.status, "completed");
    assert.equal(done.params.turn.items[0].text, "Steered answer.");
    const trace = c.trace(threadId, from);
    assert.equal(trace.filter((l) => l === "turn/started").length, 1);
    assert.equal(trace.filter((l) => l === "item/completed:agentMessage").length, 1, "the abandoned message never completes");
    const steered = c.notifications(threadId, from).find((f) => f.method === "item/completed" && f.params.item.clientId === "client-1")!;
    assert.deepEqual(steered.params.item.content, [{ type: "text", text: "also this", text_elements: [] }]);
    const second = JSON.stringify(h.sim.requests(threadId)[1]!.input);
    assert.match(second, /also this/);
    assert.doesNotMatch(second, /Working/, "partial text is not kept in history");
    assert.deepEqual(await c.error("turn/steer", { threadId, expectedTurnId: turn.id, input: text("late") }), { code: -32600, message: "no active turn to steer" });
  });

  test("turn/start on a busy thread joins the active turn", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "message", text: ["Busy", " busy"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "Both inputs seen." }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("one") });
    await c.waitForMethod("item/agentMessage/delta", threadId, from);
    const joined = await c.call("turn/start", { threadId, input: text("two") });
    assert.equal(joined.turn.id, turn.id);
    assert.equal(joined.turn.status, "inProgress");
    const done = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.equal(done.params.turn.items[0].text, "Both inputs seen.");
    assert.equal(c.trace(threadId, from).filter((l) => l === "turn/started").length, 1);
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /"two"/);
  });

  test("steer with no active turn is rejected", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    assert.deepEqual(await c.error("turn/steer", { threadId, expectedTurnId: "x", input: text("x") }), { code: -32600, message: "no active turn to steer" });
  });
});
