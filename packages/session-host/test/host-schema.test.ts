import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { codexSchema } from "../../../test/support/codex-schema.ts";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";
import type { Frame } from "./host-test-client.ts";

describe("session host: Codex schema conformance", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("the validator rejects what the schema forbids", () => {
    assert.notEqual(codexSchema().check({ method: "turn/started", params: { threadId: "t" }, emittedAtMs: 1 }), null);
    assert.notEqual(codexSchema().check({ id: 1, result: { thread: {} } }, "thread/start"), null);
  });

  test("every result, notification and server request of a full session validates against the official schema", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request", dynamicTools: [{ type: "function", name: "lookup", description: "d", inputSchema: { type: "object" } }] });
    h.sim.script(threadId, [
      {
        output: [
          { type: "reasoning", summary: ["thinking"] },
          { type: "function_call", name: "update_plan", callId: "c-plan", arguments: { plan: [{ step: "a", status: "completed" }] } },
        ],
      },
      { output: [{ type: "function_call", name: "shell", callId: "c-sh", arguments: { command: ["bash", "-lc", "echo hi"], sandbox_permissions: "require_escalated" } }] },
      { output: [{ type: "function_call", name: "apply_patch", callId: "c-ap", arguments: { input: "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n" } }] },
      { output: [{ type: "function_call", name: "lookup", callId: "c-dyn", arguments: {} }] },
      { output: [{ type: "message", text: "all done" }] },
      { output: [{ type: "message", text: "x" }], fail: { kind: "failed", message: "boom" } },
    ]);
    let from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: [...text("do everything"), { type: "image", url: "data:image/png;base64,AAAA" }] });
    const approval = (await c.waitForMethod("item/commandExecution/requestApproval", threadId, from)) as Frame & { kind: "r" };
    await c.respond(threadId, approval.requestKey, { result: { decision: "accept" } });
    const tool = (await c.waitForMethod("item/tool/call", threadId, from)) as Frame & { kind: "r" };
    await c.respond(threadId, tool.requestKey, { result: { contentItems: [{ type: "inputText", text: "found" }], success: true } });
    await c.waitTurnCompleted(threadId, turn.id, from);
    from = c.frames.length;
    const failing = await c.call("turn/start", { threadId, input: text("fail") });
    await c.waitTurnCompleted(threadId, failing.turn.id, from);

    await c.call("thread/resume", { threadId });
    await c.call("thread/read", { threadId, includeTurns: true });
    await c.call("thread/list", { limit: 10 });
    await c.call("thread/loaded/list", {});
    await c.call("thread/turns/list", { threadId, itemsView: "full" });
    await c.call("thread/turns/list", { threadId, itemsView: "notLoaded" });
    await c.call("thread/items/list", { threadId });
    const { readState } = await c.call("thread/read", { threadId });
    await c.call("thread/readState/update", { threadId, expectedRevision: readState.revision, operation: { type: "read" } });
    await c.call("thread/name/set", { threadId, name: "named" });
    const fork = await c.call("thread/fork", { threadId });
    await c.call("thread/unsubscribe", { threadId: fork.thread.id });
    await c.call("thread/archive", { threadId });
    await c.call("thread/unarchive", { threadId });
    await c.call("thread/delete", { threadId });
    await h.bus.flush();

    const kinds = new Set(c.frames.map((f) => (f.kind === "reply" ? `reply:${f.method}` : f.method)));
    for (const m of ["item/started", "item/completed", "item/reasoning/summaryTextDelta", "turn/plan/updated", "turn/diff/updated", "error", "item/commandExecution/requestApproval", "item/tool/call", "reply:thread/fork"]) {
      assert.ok(kinds.has(m), `the session exercised ${m}`);
    }
    assert.ok(c.frames.length > 60, `${c.frames.length} frames checked`);
    assert.deepEqual(c.schemaViolations, []);
  });
});
