import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";
import type { Frame } from "./host-test-client.ts";

type Json = Record<string, any>;

describe("session host: tools", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("apply_patch: fileChange item, turn/diff/updated, and the diff again after each later round", async () => {
    const c = h.client;
    const { threadId, response } = await startThread(c, { approvalPolicy: "never", sandbox: "workspace-write" });
    const patch = "*** Begin Patch\n*** Add File: notes.txt\n+hello\n*** End Patch\n";
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "apply_patch", callId: "call-patch", arguments: { input: patch } }] },
      { output: [{ type: "function_call", name: "shell", callId: "call-cat", arguments: { command: ["bash", "-lc", "cat notes.txt"] } }] },
      { output: [{ type: "message", text: "Wrote notes." }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("write notes") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    assert.deepEqual(c.trace(threadId, from), [
      "reply:turn/start",
      "thread/status/changed:active[]",
      "turn/started",
      "item/started:userMessage",
      "item/completed:userMessage",
      "item/started:fileChange",
      "item/completed:fileChange:completed",
      "turn/diff/updated",
      "thread/tokenUsage/updated",
      "account/rateLimits/updated",
      "item/started:commandExecution",
      "item/commandExecution/outputDelta×1",
      "item/completed:commandExecution:completed",
      "thread/tokenUsage/updated",
      "account/rateLimits/updated",
      "turn/diff/updated",
      "item/started:agentMessage",
      "item/agentMessage/delta×2",
      "item/completed:agentMessage",
      "thread/tokenUsage/updated",
      "account/rateLimits/updated",
      "turn/diff/updated",
      "thread/status/changed:idle",
      "turn/completed:completed",
    ]);
    const diffs = c.notifications(threadId, from).filter((f) => f.method === "turn/diff/updated").map((f) => f.params.diff);
    assert.match(diffs[0], /^diff --git a\/notes.txt b\/notes.txt\nnew file mode 100644\n/);
    assert.deepEqual(new Set(diffs).size, 1, "the same aggregated diff each time");
    const item = c.notifications(threadId, from).find((f) => f.method === "item/completed" && f.params.item.type === "fileChange")!.params.item;
    assert.deepEqual(item.changes, [{ path: join(response.cwd, "notes.txt"), kind: { type: "add" }, diff: "hello\n" }]);
    assert.equal(readFileSync(join(response.cwd, "notes.txt"), "utf8"), "hello\n");
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /Success. Updated the following files:\\nA notes.txt/);
  });

  test("a patch that does not apply goes back to the model without an item", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "never" });
    const patch = "*** Begin Patch\n*** Update File: missing.txt\n@@\n-a\n+b\n*** End Patch\n";
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "apply_patch", callId: "call-bad", arguments: { input: patch } }] },
      { output: [{ type: "message", text: "ok" }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("patch") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    assert.ok(!c.trace(threadId, from).some((l) => l.includes("fileChange")));
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /apply_patch verification failed/);
  });

  test("update_plan publishes turn/plan/updated and answers Plan updated", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "update_plan", callId: "call-plan", arguments: { explanation: "first things first", plan: [{ step: "write notes", status: "in_progress" }, { step: "ship", status: "pending" }] } }] },
      { output: [{ type: "message", text: "planned" }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("plan") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const plan = c.notifications(threadId, from).find((f) => f.method === "turn/plan/updated")!;
    assert.deepEqual(plan.params, {
      threadId,
      turnId: turn.id,
      explanation: "first things first",
      plan: [{ step: "write notes", status: "inProgress" }, { step: "ship", status: "pending" }],
    });
    assert.deepEqual(c.trace(threadId, from).slice(5, 8), ["turn/plan/updated", "thread/tokenUsage/updated", "account/rateLimits/updated"]);
    const out = (h.sim.requests(threadId)[1]!.input as Json[]).find((i) => i.type === "function_call_output")!;
    assert.deepEqual(out, { type: "function_call_output", call_id: "call-plan", output: "Plan updated" });
  });

  test("a dynamic tool call: item, item/tool/call request, client answer, completed item, output to the model", async () => {
    const c = h.client;
    const dynamicTools = [
      { type: "function", name: "lookup_ticket", description: "Look up a ticket", inputSchema: { type: "object", properties: { id: { type: "string" } } } },
      { type: "namespace", name: "crm", description: "CRM", tools: [{ name: "find", description: "Find", inputSchema: { type: "object" } }] },
    ];
    const { threadId } = await startThread(c, { dynamicTools });
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "lookup_ticket", callId: "call-dyn", arguments: { id: "T-1" } }] },
      { output: [{ type: "function_call", name: "crm__find", callId: "call-ns", arguments: { q: "x" } }] },
      { output: [{ type: "message", text: "Ticket is open." }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("status of T-1?") });
    const req = (await c.waitForMethod("item/tool/call", threadId, from)) as Frame & { kind: "r" };
    assert.deepEqual(req.params, { threadId, turnId: turn.id, callId: "call-dyn", namespace: null, tool: "lookup_ticket", arguments: { id: "T-1" } });
    const started = c.notifications(threadId, from).find((f) => f.method === "item/started" && f.params.item.type === "dynamicToolCall")!;
    assert.deepEqual(started.params.item, {
      type: "dynamicToolCall", id: "call-dyn", namespace: null, tool: "lookup_ticket", arguments: { id: "T-1" }, status: "inProgress",
      contentItems: null, success: null, durationMs: null, startedAtMs: started.params.item.startedAtMs, completedAtMs: null,
    });
    await c.respond(threadId, req.requestKey, { result: { contentItems: [{ type: "inputText", text: "T-1: open" }], success: true } });
    const nsReq = (await c.waitForMethod("item/tool/call", threadId, from, (f) => f.kind === "r" && f.params.callId === "call-ns")) as Frame & { kind: "r" };
    assert.equal(nsReq.params.namespace, "crm");
    assert.equal(nsReq.params.tool, "find");
    await c.respond(threadId, nsReq.requestKey, { result: { nope: true } });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const items = c.notifications(threadId, from).filter((f) => f.method === "item/completed" && f.params.item.type === "dynamicToolCall").map((f) => f.params.item);
    assert.equal(items[0].status, "completed");
    assert.equal(items[0].success, true);
    assert.deepEqual(items[0].contentItems, [{ type: "inputText", text: "T-1: open" }]);
    assert.equal(items[1].status, "failed");
    assert.deepEqual(items[1].contentItems, [{ type: "inputText", text: "dynamic tool response was invalid" }]);
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /T-1: open/);
    const tools = (h.sim.requests(threadId)[0]!.tools as Json[]).map((t) => t.name);
    assert.deepEqual(tools, ["shell", "apply_patch", "update_plan", "lookup_ticket", "crm__find"]);
  });

  test("an unknown tool is answered with an error output and the turn continues", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "teleport", callId: "call-x", arguments: {} }] },
      { output: [{ type: "message", text: "fine" }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("go") });
    const done = await c.waitTurnCompleted(threadId, turn.id, from);
    assert.equal(done.params.turn.status, "completed");
    const out = (h.sim.requests(threadId)[1]!.input as Json[]).find((i) => i.type === "function_call_output")!;
    assert.equal(out.output, "unsupported call: teleport");
  });

  test("malformed shell arguments go back to the model", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-bad", arguments: "{not json" }] },
      { output: [{ type: "message", text: "fine" }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("go") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    assert.ok(!c.trace(threadId, from).some((l) => l.includes("commandExecution")));
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /failed to parse function arguments/);
  });
});
