import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TENANT, startHarness, startThread, text, type Harness } from "./host-harness.ts";
import type { Frame } from "./host-test-client.ts";
import type { SimOutput } from "@threadmesh/model-sim";

type Json = Record<string, any>;

const ROUND_USAGE = ["thread/tokenUsage/updated", "account/rateLimits/updated"];
const TURN_OPENING = ["reply:turn/start", "thread/status/changed:active[]", "turn/started", "item/started:userMessage", "item/completed:userMessage"];

function shellCall(callId: string, script: string, extra: Json = {}): SimOutput {
  return { type: "function_call", name: "shell", callId, arguments: { command: ["bash", "-lc", script], ...extra } };
}

describe("session host: approvals", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  /** Starts a turn and waits for its first server request. */
  async function turnUntilRequest(threadId: string, prompt: string): Promise<{ from: number; turnId: string; req: Frame & { kind: "r" } }> {
    const from = h.client.frames.length;
    const { turn } = await h.client.call("turn/start", { threadId, input: text(prompt) });
    const req = (await h.client.waitFor((f) => f.kind === "r" && f.threadId === threadId, from, "a server request")) as Frame & { kind: "r" };
    return { from, turnId: turn.id, req };
  }

  test("accept: waitingOnApproval, item/started, request, resolved, active again, run, completed (§6.1)", async () => {
    const c = h.client;
    const { threadId, response } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [
      { output: [shellCall("call-accept", "touch approved.txt && echo ran-accept", { sandbox_permissions: "require_escalated", justification: "create a file" })] },
      { output: [{ type: "message", text: "Final answer after accept." }] },
    ]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "create approved.txt");
    assert.equal(req.method, "item/commandExecution/requestApproval");
    assert.deepEqual(req.params, {
      kind: "command",
      threadId,
      turnId,
      itemId: "call-accept",
      startedAtMs: req.params.startedAtMs,
      environmentId: "local",
      reason: "create a file",
      command: "/bin/bash -lc 'touch approved.txt && echo ran-accept'",
      cwd: response.cwd,
      commandActions: [{ type: "unknown", command: "touch approved.txt && echo ran-accept" }],
      proposedExecpolicyAmendment: ["touch", "approved.txt"],
      // As Codex offers them: the proposed amendment between accept and cancel.
      availableDecisions: ["accept", { acceptWithExecpolicyAmendment: { execpolicy_amendment: ["touch", "approved.txt"] } }, "cancel"],
    });
    const started = c.notifications(threadId, from).find((f) => f.method === "item/started" && f.params.item.type === "commandExecution")!;
    assert.equal(started.params.item.source, "agent");
    assert.equal(started.params.item.processId, null);
    await c.respond(threadId, req.requestKey, { result: { decision: "accept" } });
    const done = await c.waitTurnCompleted(threadId, turnId, from);
    assert.equal(done.params.turn.status, "completed");
    assert.deepEqual(c.trace(threadId, from), [
      ...TURN_OPENING,
      "thread/status/changed:active[waitingOnApproval]",
      "item/started:commandExecution",
      "request:item/commandExecution/requestApproval",
      "resolved:item/commandExecution/requestApproval",
      "thread/status/changed:active[]",
      "item/commandExecution/outputDelta×1",
      "item/completed:commandExecution:completed",
      ...ROUND_USAGE,
      "item/started:agentMessage",
      "item/agentMessage/delta×4",
      "item/completed:agentMessage",
      ...ROUND_USAGE,
      "thread/status/changed:idle",
      "turn/completed:completed",
    ]);
    const item = c.notifications(threadId, from).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!.params.item;
    assert.equal(item.source, "agent");
    assert.equal(item.exitCode, 0);
    assert.equal(item.aggregatedOutput, "ran-accept\n");
    assert.match(item.processId, /^\d+$/);
    assert.ok(existsSync(join(response.cwd, "approved.txt")));
    const second = JSON.stringify(h.sim.requests(threadId)[1]!.input);
    assert.match(second, /"type":"function_call","call_id":"call-accept"/);
    assert.match(second, /Exit code: 0\\nWall time: [\d.]+ seconds\\nOutput:\\nran-accept/);
  });

  test("decline: the item completes declined and the model is told; the turn continues", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [
      { output: [shellCall("call-decline", "touch declined.txt", { sandbox_permissions: "require_escalated" })] },
      { output: [{ type: "message", text: "Understood." }] },
    ]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "try it");
    await c.respond(threadId, req.requestKey, { result: { decision: "decline" } });
    const done = await c.waitTurnCompleted(threadId, turnId, from);
    assert.equal(done.params.turn.status, "completed");
    const trace = c.trace(threadId, from);
    const i = trace.indexOf("request:item/commandExecution/requestApproval");
    assert.deepEqual(trace.slice(i, i + 4), [
      "request:item/commandExecution/requestApproval",
      "resolved:item/commandExecution/requestApproval",
      "item/completed:commandExecution:declined",
      "thread/status/changed:active[]",
    ]);
    const item = c.notifications(threadId, from).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!.params.item;
    assert.equal(item.exitCode, null);
    assert.equal(item.aggregatedOutput, null);
    assert.equal(h.sim.requests(threadId).length, 2);
    assert.match(JSON.stringify(h.sim.requests(threadId)[1]!.input), /rejected by user/);
  });

  test("cancel: the item completes declined and the turn is interrupted without another model call", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [{ output: [shellCall("call-cancel", "touch cancelled.txt", { sandbox_permissions: "require_escalated" })] }]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "try it");
    await c.respond(threadId, req.requestKey, { result: { decision: "cancel" } });
    const done = await c.waitTurnCompleted(threadId, turnId, from);
    assert.equal(done.params.turn.status, "interrupted");
    // As Codex: active again, the round's usage and rate limits, then idle.
    assert.deepEqual(c.trace(threadId, from).slice(-8), [
      "request:item/commandExecution/requestApproval",
      "resolved:item/commandExecution/requestApproval",
      "item/completed:commandExecution:declined",
      "thread/status/changed:active[]",
      ...ROUND_USAGE,
      "thread/status/changed:idle",
      "turn/completed:interrupted",
    ]);
    assert.equal(h.sim.requests(threadId).length, 1);
  });

  test("an error answer fails the item and the turn continues", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [
      { output: [shellCall("call-err", "true", { sandbox_permissions: "require_escalated" })] },
      { output: [{ type: "message", text: "ok" }] },
    ]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "go");
    await c.respond(threadId, req.requestKey, { error: { code: -32000, message: "dialog closed" } });
    const done = await c.waitTurnCompleted(threadId, turnId, from);
    assert.equal(done.params.turn.status, "completed");
    assert.ok(c.trace(threadId, from).includes("item/completed:commandExecution:failed"));
  });

  test("the first answer wins; later answers are ignored", async () => {
    const c = h.client;
    const other = h.connect("conn-2");
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [
      { output: [shellCall("call-two", "echo two", { sandbox_permissions: "require_escalated" })] },
      { output: [{ type: "message", text: "done" }] },
    ]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "go");
    const first = await other.respond(threadId, req.requestKey, { result: { decision: "accept" } });
    const second = await c.respond(threadId, req.requestKey, { result: { decision: "decline" } });
    assert.deepEqual(first.ok && first.result, { accepted: true });
    assert.deepEqual(second.ok && second.result, { accepted: false });
    await c.waitTurnCompleted(threadId, turnId, from);
    assert.ok(c.trace(threadId, from).includes("item/completed:commandExecution:completed"));
    assert.equal(c.trace(threadId, from).filter((l) => l.startsWith("resolved:")).length, 1);
  });

  test("acceptForSession approves the same command for the rest of the thread", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "untrusted", sandbox: "danger-full-access" });
    h.sim.script(threadId, [
      { output: [shellCall("call-s1", "touch session.txt")] },
      { output: [shellCall("call-s2", "touch session.txt")] },
      { output: [{ type: "message", text: "twice" }] },
    ]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "go");
    await c.respond(threadId, req.requestKey, { result: { decision: "acceptForSession" } });
    await c.waitTurnCompleted(threadId, turnId, from);
    assert.equal(c.trace(threadId, from).filter((l) => l.startsWith("request:")).length, 1);
    assert.equal(c.trace(threadId, from).filter((l) => l === "item/completed:commandExecution:completed").length, 2);
  });

  test("untrusted runs known read-only commands without asking", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "untrusted", sandbox: "danger-full-access" });
    h.sim.script(threadId, [{ output: [shellCall("call-ls", "ls")] }, { output: [{ type: "message", text: "listed" }] }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("list") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const trace = c.trace(threadId, from);
    assert.ok(!trace.some((l) => l.startsWith("request:")));
    assert.ok(trace.includes("item/completed:commandExecution:completed"));
  });

  test("never: a command runs sandboxed without asking and a failure goes back to the model", async () => {
    const c = h.client;
    const { threadId, response } = await startThread(c, { approvalPolicy: "never", sandbox: "workspace-write" });
    // /usr is bound read-only inside the sandbox (/tmp and /var/tmp are private to the command).
    const outside = `/usr/tm-host-outside-${process.pid}.txt`;
    h.sim.script(threadId, [
      { output: [shellCall("call-in", "echo inside > inside.txt && cat inside.txt")] },
      { output: [shellCall("call-out", `echo x > ${outside}`, { sandbox_permissions: "require_escalated" })] },
      { output: [{ type: "message", text: "checked" }] },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("probe") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const items = c.notifications(threadId, from).filter((f) => f.method === "item/completed" && f.params.item.type === "commandExecution");
    const byId = new Map(items.map((f) => [f.params.item.id as string, f.params.item as Json]));
    assert.equal(byId.get("call-in")!.exitCode, 0);
    assert.equal(byId.get("call-in")!.aggregatedOutput, "inside\n");
    assert.equal(readFileSync(join(response.cwd, "inside.txt"), "utf8"), "inside\n");
    assert.notEqual(byId.get("call-out")!.exitCode, 0);
    assert.equal(byId.get("call-out")!.status, "failed");
    assert.ok(!existsSync(outside));
    assert.ok(!c.trace(threadId, from).some((l) => l.startsWith("request:")));
    const started = c.notifications(threadId, from).find((f) => f.method === "item/started" && f.params.item.id === "call-in")!;
    // A one-shot shell run is not a background terminal for Codex clients.
    assert.equal(started.params.item.source, "agent");
    assert.equal(started.params.item.processId, null);
    assert.match(JSON.stringify(h.sim.requests(threadId)[2]!.input), /Exit code: [1-9]/);
  });

  test("a patch outside the sandbox asks: item/started, then waitingOnApproval, request, resolved (§6.2)", async () => {
    const c = h.client;
    // Inside the tenant's workspace root (patches may not leave it), outside the thread's workspace.
    const outside = join(h.workspaceRoot, TENANT, "outside-ws");
    mkdirSync(outside, { recursive: true });
    const target = join(outside, "a.txt");
    writeFileSync(target, "hello\n");
    const { threadId } = await startThread(c, { approvalPolicy: "on-request", sandbox: "workspace-write" });
    const patch = `*** Begin Patch\n*** Update File: ${target}\n@@\n-hello\n+hello world\n*** End Patch\n`;
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "apply_patch", callId: "call-patch", arguments: { input: patch } }] },
      { output: [{ type: "message", text: "patched" }] },
    ]);
    const { from, turnId, req } = await turnUntilRequest(threadId, "patch it");
    assert.equal(req.method, "item/fileChange/requestApproval");
    assert.deepEqual(req.params, { threadId, turnId, itemId: "call-patch", startedAtMs: req.params.startedAtMs, reason: null, grantRoot: null });
    await c.respond(threadId, req.requestKey, { result: { decision: "accept" } });
    await c.waitTurnCompleted(threadId, turnId, from);
    assert.deepEqual(c.trace(threadId, from).slice(TURN_OPENING.length, TURN_OPENING.length + 8), [
      "item/started:fileChange",
      "thread/status/changed:active[waitingOnApproval]",
      "request:item/fileChange/requestApproval",
      "resolved:item/fileChange/requestApproval",
      "thread/status/changed:active[]",
      "item/completed:fileChange:completed",
      "turn/diff/updated",
      "thread/tokenUsage/updated",
    ]);
    assert.equal(readFileSync(target, "utf8"), "hello world\n");
    const started = c.notifications(threadId, from).find((f) => f.method === "item/started" && f.params.item.type === "fileChange")!;
    assert.deepEqual(started.params.item.changes, [{ path: target, kind: { type: "update", move_path: null }, diff: "@@ -1 +1 @@\n-hello\n+hello world\n" }]);
  });

  test("a resuming connection gets the pending request again, with the same key", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [
      { output: [{ type: "message", text: "warm up" }] },
      { output: [shellCall("call-pend", "true", { sandbox_permissions: "require_escalated" })] },
      { output: [{ type: "message", text: "done" }] },
    ]);
    let from = c.frames.length;
    const first = await c.call("turn/start", { threadId, input: text("materialize") });
    await c.waitTurnCompleted(threadId, first.turn.id, from);
    const { turnId, req, from: f2 } = await turnUntilRequest(threadId, "run");
    from = f2;
    const late = h.connect("conn-late");
    const resumed = await late.send("thread/resume", { threadId, excludeTurns: true });
    assert.ok(resumed.ok);
    assert.equal(resumed.subscribe, threadId);
    assert.deepEqual(resumed.pendingRequests, [{ requestKey: req.requestKey, method: req.method, params: req.params }]);
    assert.deepEqual(resumed.result && (resumed.result as Json).thread.status, { type: "active", activeFlags: ["waitingOnApproval"] });
    await late.respond(threadId, req.requestKey, { result: { decision: "accept" } });
    await c.waitTurnCompleted(threadId, turnId, from);
  });
});
