import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createServer, request as httpRequest } from "node:http";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";

type Json = Record<string, any>;

/** The end-to-end behaviour suite, run once per topology over real WebSockets and real processes. */
export function describeE2E(kind: TopologyKind): void {
  describe(`end to end (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    const clients: TestClient[] = [];

    const connect = async (opts: Parameters<typeof TestClient.initialized>[1] = {}): Promise<TestClient> => {
      const c = await TestClient.initialized(topo.url, { token: topo.token, ...opts });
      clients.push(c);
      return c;
    };
    /** Starts a thread and waits for its `thread/started`, which follows the response (a broadcast, on its own path). */
    const startThread = async (c: TestClient, params: Json = {}): Promise<string> => {
      const from = c.frames.length;
      const r = await c.call("thread/start", params);
      const threadId = r.thread.id as string;
      await c.waitFor((f) => f.method === "thread/started" && f.params.thread.id === threadId, { from });
      return threadId;
    };
    const runTurn = async (c: TestClient, threadId: string, text: string, extra: Json = {}): Promise<{ from: number; completed: Json; turnId: string }> => {
      const from = c.frames.length;
      const r = await c.call("turn/start", { threadId, input: [{ type: "text", text }], ...extra });
      const turnId = r.turn.id as string;
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from });
      return { from, completed, turnId };
    };

    before(async () => {
      sim = await startModelSim({ port: 0 });
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await topo?.stop();
      await sim?.close();
    });

    test("a prompt streams its answer in the reference order", async () => {
      const c = await connect();
      const threadId = await startThread(c);
      sim.script(threadId, [{ output: [{ type: "message", text: ["Hello", " there", "!"] }], usage: { inputTokens: 100, outputTokens: 5 } }]);
      const { from, completed } = await runTurn(c, threadId, "hi");
      assert.deepEqual(c.methods(from, threadId), [
        "thread/status/changed",
        "turn/started",
        "item/started",
        "item/completed",
        "item/started",
        "item/agentMessage/delta",
        "item/agentMessage/delta",
        "item/agentMessage/delta",
        "item/completed",
        "thread/tokenUsage/updated",
        "thread/status/changed",
        "turn/completed",
      ]);
      assert.equal(completed.params.turn.status, "completed");
      assert.equal(completed.params.turn.items[0].text, "Hello there!");
    });

    test("approval accept runs the command and the turn continues", async () => {
      const c = await connect();
      const threadId = await startThread(c, { approvalPolicy: "on-request", sandbox: "workspace-write" });
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-accept", arguments: { command: ["bash", "-lc", "touch approved.txt && echo ran-accept"], sandbox_permissions: "require_escalated", justification: "create a file" } }] },
        { output: [{ type: "message", text: "Final answer after accept." }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "create approved.txt" }] });
      const req = await c.waitForMethod("item/commandExecution/requestApproval", { from });
      assert.equal(req.params.itemId, "call-accept");
      assert.equal(req.params.reason, "create a file");
      assert.equal(typeof req.id, "number");
      c.respond(req.id, { decision: "accept" });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "completed");
      const item = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!;
      assert.equal(item.params.item.status, "completed");
      assert.equal(item.params.item.exitCode, 0);
      assert.equal(item.params.item.aggregatedOutput, "ran-accept\n");
      const seq = c.methods(from, threadId);
      const i = seq.indexOf("item/commandExecution/requestApproval");
      assert.deepEqual(seq.slice(i - 2, i + 3), ["thread/status/changed", "item/started", "item/commandExecution/requestApproval", "serverRequest/resolved", "thread/status/changed"]);
      const cwd = (await c.call("thread/read", { threadId })).thread.cwd as string;
      assert.ok(existsSync(join(cwd, "approved.txt")));
      const second = sim.requests(threadId)[1] as Json;
      assert.ok(JSON.stringify(second.input).includes("ran-accept"), "the command output went back to the model");
    });

    test("approval decline completes the item as declined and the turn continues", async () => {
      const c = await connect();
      const threadId = await startThread(c, { approvalPolicy: "on-request" });
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-decline", arguments: { command: ["bash", "-lc", "touch declined.txt"], sandbox_permissions: "require_escalated", justification: "why not" } }] },
        { output: [{ type: "message", text: "Understood, not running it." }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "try it" }] });
      const req = await c.waitForMethod("item/commandExecution/requestApproval", { from });
      c.respond(req.id, { decision: "decline" });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "completed");
      const item = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!;
      assert.equal(item.params.item.status, "declined");
      assert.equal(item.params.item.exitCode, null);
      assert.equal(sim.requests(threadId).length, 2);
    });

    test("approval cancel declines the item and interrupts the turn", async () => {
      const c = await connect();
      const threadId = await startThread(c, { approvalPolicy: "on-request" });
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-cancel", arguments: { command: ["bash", "-lc", "touch cancelled.txt"], sandbox_permissions: "require_escalated" } }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "try it" }] });
      const req = await c.waitForMethod("item/commandExecution/requestApproval", { from });
      c.respond(req.id, { decision: "cancel" });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "interrupted");
      const item = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!;
      assert.equal(item.params.item.status, "declined");
      assert.equal(sim.requests(threadId).length, 1, "no further model call after cancel");
    });

    test("interrupt during streaming ends the turn interrupted and the next turn sees the marker", async () => {
      const c = await connect();
      const threadId = await startThread(c);
      sim.script(threadId, [
        { output: [{ type: "message", text: ["This re", "ply str", "eams"] }], fail: { kind: "hang", afterEvents: 6 } },
        { output: [{ type: "message", text: "Follow-up after interrupt." }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "Tell me a long story." }] });
      await c.waitForMethod("item/agentMessage/delta", { from });
      const r = await c.request("turn/interrupt", { threadId, turnId: turn.id });
      assert.deepEqual(r.result, {});
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "interrupted");
      assert.deepEqual(completed.params.turn.items, []);
      const tail = c.methods(from, threadId).slice(-2);
      assert.deepEqual(tail, ["thread/status/changed", "turn/completed"]);
      const again = await c.request("turn/interrupt", { threadId, turnId: turn.id });
      assert.equal(again.error.code, -32600);
      assert.equal(again.error.message, "no active turn to interrupt");
      const next = await runTurn(c, threadId, "Are you still there?");
      assert.equal(next.completed.params.turn.status, "completed");
      assert.match(JSON.stringify(sim.requests(threadId)[1]), /turn_aborted/);
    });

    test("interrupt during a pending approval resolves the request after turn/completed", async () => {
      const c = await connect();
      const threadId = await startThread(c, { approvalPolicy: "on-request" });
      sim.script(threadId, [{ output: [{ type: "function_call", name: "shell", callId: "call-int", arguments: { command: ["bash", "-lc", "true"], sandbox_permissions: "require_escalated" } }] }]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "go" }] });
      const req = await c.waitForMethod("item/commandExecution/requestApproval", { from });
      await c.call("turn/interrupt", { threadId, turnId: turn.id });
      const resolved = await c.waitFor((f) => f.method === "serverRequest/resolved" && f.params.requestId === req.id, { from });
      const completedIdx = c.frames.findIndex((f, i) => i >= from && f.method === "turn/completed");
      assert.ok(completedIdx >= 0 && completedIdx < c.frames.indexOf(resolved), "resolved comes after turn/completed");
      assert.equal(c.frames[completedIdx]!.params.turn.status, "interrupted");
    });

    test("steer injects input into the active turn", async () => {
      const c = await connect();
      const threadId = await startThread(c);
      sim.script(threadId, [
        { output: [{ type: "message", text: ["Working", " on", " it"] }], fail: { kind: "hang", afterEvents: 6 } },
        { output: [{ type: "message", text: "Steered answer." }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "first" }] });
      await c.waitForMethod("item/agentMessage/delta", { from });
      const bad = await c.request("turn/steer", { threadId, expectedTurnId: "nope", input: [{ type: "text", text: "x" }] });
      assert.equal(bad.error.message, `expected active turn id \`nope\` but found \`${turn.id}\``);
      const steer = await c.call("turn/steer", { threadId, expectedTurnId: turn.id, input: [{ type: "text", text: "also this" }], clientUserMessageId: "client-1" });
      assert.equal(steer.turnId, turn.id);
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "completed");
      assert.equal(completed.params.turn.items[0].text, "Steered answer.");
      const steered = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "userMessage" && f.params.item.clientId === "client-1");
      assert.ok(steered, "steered input appears as a userMessage with its clientId");
      assert.match(JSON.stringify(sim.requests(threadId)[1]), /also this/);
      const none = await c.request("turn/steer", { threadId, expectedTurnId: turn.id, input: [{ type: "text", text: "late" }] });
      assert.equal(none.error.message, "no active turn to steer");
    });

    test("a dynamic tool call is answered by the client", async () => {
      const c = await connect({ experimentalApi: true });
      const dynamicTools = [{ type: "function", name: "lookup_ticket", description: "Look up a ticket", inputSchema: { type: "object", properties: { id: { type: "string" } } } }];
      const threadId = await startThread(c, { dynamicTools });
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "lookup_ticket", callId: "call-dyn", arguments: { id: "T-1" } }] },
        { output: [{ type: "message", text: "Ticket is open." }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "status of T-1?" }] });
      const req = await c.waitForMethod("item/tool/call", { from });
      assert.deepEqual(req.params.arguments, { id: "T-1" });
      assert.equal(req.params.tool, "lookup_ticket");
      c.respond(req.id, { contentItems: [{ type: "inputText", text: "T-1: open" }], success: true });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "completed");
      const item = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "dynamicToolCall")!;
      assert.equal(item.params.item.success, true);
      assert.ok(!c.methods(from).includes("serverRequest/resolved"), "no resolved notification for dynamic tools");
      assert.match(JSON.stringify(sim.requests(threadId)[1]), /T-1: open/);
    });

    test("dynamic tools need the experimental capability", async () => {
      const c = await connect();
      const r = await c.request("thread/start", { dynamicTools: [] });
      assert.deepEqual(r.error, { code: -32600, message: "thread/start.dynamicTools requires experimentalApi capability" });
    });

    test("two connections on one thread: fan-out, first answer wins, resolved to both", async () => {
      const a = await connect({ name: "conn_a" });
      const b = await connect({ name: "conn_b" });
      const threadId = await startThread(a, { approvalPolicy: "on-request" });
      sim.script(threadId, [
        { output: [{ type: "message", text: "warm up" }] },
        { output: [{ type: "function_call", name: "shell", callId: "call-two", arguments: { command: ["bash", "-lc", "echo two"], sandbox_permissions: "require_escalated" } }] },
        { output: [{ type: "message", text: "done" }] },
      ]);
      await runTurn(a, threadId, "materialize");
      const startedOnB = b.frames.find((f) => f.method === "thread/started" && f.params.thread.id === threadId);
      assert.ok(startedOnB, "thread/started is broadcast to every connection");
      await b.call("thread/resume", { threadId, excludeTurns: true });
      const fromA = a.frames.length;
      const fromB = b.frames.length;
      const { turn } = await a.call("turn/start", { threadId, input: [{ type: "text", text: "run it" }] });
      const reqA = await a.waitForMethod("item/commandExecution/requestApproval", { from: fromA });
      const reqB = await b.waitForMethod("item/commandExecution/requestApproval", { from: fromB });
      b.respond(reqB.id, { decision: "accept" });
      await b.waitFor((f) => f.method === "serverRequest/resolved" && f.params.requestId === reqB.id, { from: fromB });
      await a.waitFor((f) => f.method === "serverRequest/resolved" && f.params.requestId === reqA.id, { from: fromA });
      a.respond(reqA.id, { decision: "decline" });
      const done = await a.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from: fromA });
      assert.equal(done.params.turn.status, "completed");
      const item = a.frames.slice(fromA).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!;
      assert.equal(item.params.item.status, "completed", "the first answer (accept from B) won");
      await b.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from: fromB });
      assert.deepEqual(
        a.methods(fromA, threadId).filter((m) => m.startsWith("item/") || m.startsWith("turn/")),
        b.methods(fromB, threadId).filter((m) => m.startsWith("item/") || m.startsWith("turn/")),
      );
    });

    test("a client that drops mid-turn resumes with afterSeq and gets every event it missed once, in order", async () => {
      const watcher = await connect();
      const threadId = await startThread(watcher);
      const words = Array.from({ length: 400 }, (_, i) => `w${i} `);
      sim.script(threadId, [{ output: [{ type: "message", text: "materialized" }] }, { output: [{ type: "message", text: words }] }]);
      await runTurn(watcher, threadId, "first");
      const dropper = await connect();
      await dropper.call("thread/resume", { threadId, excludeTurns: true });
      const from = watcher.frames.length;
      const { turn } = await watcher.call("turn/start", { threadId, input: [{ type: "text", text: "stream a lot" }] });
      await dropper.waitFor((f) => f.method === "item/agentMessage/delta" && f.params.delta === "w40 ");
      dropper.ws.terminate();
      await dropper.waitClose();
      const seen = Math.max(...dropper.frames.map((f) => (typeof f.seq === "number" ? f.seq : 0)));
      await watcher.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });

      const ofThread = (f: Json) => typeof f.seq === "number" && (f.params?.threadId === threadId || f.params?.thread?.id === threadId);
      const expected = watcher.frames.slice(from).filter((f) => ofThread(f) && f.seq > seen).map((f) => [f.method, f.seq]);
      assert.ok(expected.length > 0, "the drop happened before the turn's end");
      const back = await connect();
      const fromBack = back.frames.length;
      const res = await back.call("thread/resume", { threadId, afterSeq: seen });
      assert.equal(res.replay.recovered, true);
      await back.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from: fromBack });
      // The resume itself announces the thread's goal (none) to every subscriber after the replay, as Codex does.
      await back.waitFor((f) => f.method === "thread/goal/cleared" && f.params.threadId === threadId, { from: fromBack });
      const all = back.frames.slice(fromBack).filter(ofThread).map((f) => [f.method, f.seq]);
      assert.deepEqual(all.at(-1)?.[0], "thread/goal/cleared");
      const got = all.slice(0, -1);
      assert.deepEqual(got, expected);
      const seqs = got.map(([, q]) => q as number);
      assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), "strictly increasing, no duplicates");
    });

    test("unsubscribed connections still get broadcasts but no thread events", async () => {
      const a = await connect();
      const b = await connect();
      const threadId = await startThread(a);
      sim.script(threadId, [{ output: [{ type: "message", text: "one" }] }, { output: [{ type: "message", text: "two" }] }]);
      await runTurn(a, threadId, "first");
      await b.call("thread/resume", { threadId, excludeTurns: true });
      assert.deepEqual(await b.call("thread/unsubscribe", { threadId }), { status: "unsubscribed" });
      assert.deepEqual(await b.call("thread/unsubscribe", { threadId }), { status: "notSubscribed" });
      const fromB = b.frames.length;
      await runTurn(a, threadId, "second");
      await b.waitFor((f) => f.method === "thread/status/changed" && f.params.threadId === threadId && f.params.status.type === "idle", { from: fromB });
      assert.ok(!b.methods(fromB).some((m) => m.startsWith("turn/") || m.startsWith("item/")));
    });

    test("optOutNotificationMethods suppresses exactly those notifications", async () => {
      const c = await connect({ optOut: ["item/agentMessage/delta"] });
      const threadId = await startThread(c);
      sim.script(threadId, [{ output: [{ type: "message", text: ["a", "b"] }] }]);
      const { from, completed } = await runTurn(c, threadId, "x");
      assert.equal(completed.params.turn.items[0].text, "ab");
      assert.ok(!c.methods(from).includes("item/agentMessage/delta"));
    });

    test("apply_patch produces a fileChange item and turn/diff/updated; update_plan a plan update", async () => {
      const c = await connect();
      const threadId = await startThread(c, { approvalPolicy: "never", sandbox: "workspace-write" });
      const patch = "*** Begin Patch\n*** Add File: notes.txt\n+hello\n*** End Patch\n";
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "update_plan", callId: "call-plan", arguments: { plan: [{ step: "write notes", status: "in_progress" }] } }] },
        { output: [{ type: "function_call", name: "apply_patch", callId: "call-patch", arguments: { input: patch } }] },
        { output: [{ type: "message", text: "Wrote notes." }] },
      ]);
      const { from, completed } = await runTurn(c, threadId, "write notes");
      assert.equal(completed.params.turn.status, "completed");
      const plan = c.frames.slice(from).find((f) => f.method === "turn/plan/updated")!;
      assert.deepEqual(plan.params.plan, [{ step: "write notes", status: "inProgress" }]);
      const fc = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "fileChange")!;
      assert.equal(fc.params.item.status, "completed");
      assert.equal(fc.params.item.changes[0].kind.type, "add");
      const diff = c.frames.slice(from).find((f) => f.method === "turn/diff/updated")!;
      assert.match(diff.params.diff, /diff --git a\/notes.txt b\/notes.txt/);
      const cwd = (await c.call("thread/read", { threadId })).thread.cwd as string;
      assert.ok(existsSync(join(cwd, "notes.txt")));
    });

    test("a model failure fails the turn with an error and systemError status", async () => {
      const c = await connect();
      const threadId = await startThread(c);
      sim.script(threadId, [{ output: [{ type: "message", text: "partial" }], fail: { kind: "failed", message: "boom" } }]);
      const { from, completed } = await runTurn(c, threadId, "fail please");
      assert.equal(completed.params.turn.status, "failed");
      assert.match(completed.params.turn.error.message, /boom/);
      const seq = c.methods(from, threadId);
      assert.deepEqual(seq.slice(-3), ["thread/status/changed", "error", "turn/completed"]);
      const status = c.frames.slice(from).filter((f) => f.method === "thread/status/changed").pop()!;
      assert.equal(status.params.status.type, "systemError");
      const read = await c.call("thread/read", { threadId });
      assert.equal(read.thread.status.type, "systemError");
    });

    test("a cut model stream fails the turn instead of hanging", async () => {
      const c = await connect();
      const threadId = await startThread(c);
      sim.script(threadId, [{ output: [{ type: "message", text: "never finishes" }], fail: { kind: "cut", afterEvents: 4 } }]);
      const { completed } = await runTurn(c, threadId, "cut");
      assert.equal(completed.params.turn.status, "failed");
    });

    test("threads are listed, read, paged, renamed, forked, archived and deleted from the store", async () => {
      const c = await connect();
      const threadId = await startThread(c, { cwd: topo.tenantRoot });
      const early = await c.request("thread/resume", { threadId });
      assert.equal(early.error.message, `no rollout found for thread id ${threadId}`);
      sim.script(threadId, [{ output: [{ type: "message", text: "listed" }] }, { output: [{ type: "message", text: "again" }] }]);
      const fromT1 = c.frames.length;
      const t1 = { turnId: (await c.call("turn/start", { threadId, input: [{ type: "text", text: "list me" }] })).turn.id as string };
      const listedAtOnce = await c.call("thread/list", { limit: 100, cwd: topo.tenantRoot });
      assert.ok(listedAtOnce.data.some((t: Json) => t.id === threadId), "listed as soon as its first turn/start is answered");
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === t1.turnId, { from: fromT1 });
      await runTurn(c, threadId, "and again");
      const list = await c.call("thread/list", { limit: 100, cwd: topo.tenantRoot });
      assert.ok(list.data.some((t: Json) => t.id === threadId));
      const search = await c.call("thread/list", { searchTerm: "list me", limit: 100 });
      assert.ok(search.data.some((t: Json) => t.id === threadId));
      const page1 = await c.call("thread/turns/list", { threadId, limit: 1 });
      assert.equal(page1.data.length, 1);
      assert.ok(page1.nextCursor);
      const page2 = await c.call("thread/turns/list", { threadId, limit: 1, cursor: page1.nextCursor });
      assert.equal(page2.data[0].id, t1.turnId, "default order is newest first");
      const items = await c.call("thread/items/list", { threadId, turnId: t1.turnId });
      assert.deepEqual(items.data.map((e: Json) => e.item.type), ["userMessage", "agentMessage"]);
      const read = await c.call("thread/read", { threadId, includeTurns: true });
      assert.equal(read.thread.turns.length, 2);
      assert.equal(read.thread.turns[0].itemsView, "full");
      const loaded = await c.call("thread/loaded/list", {});
      assert.ok(loaded.data.includes(threadId));

      const empty = await c.request("thread/name/set", { threadId, name: "  " });
      assert.equal(empty.error.message, "thread name must not be empty");
      const from = c.frames.length;
      await c.call("thread/name/set", { threadId, name: "Renamed" });
      await c.waitFor((f) => f.method === "thread/name/updated" && f.params.threadName === "Renamed", { from });

      const fork = await c.call("thread/fork", { threadId, lastTurnId: t1.turnId });
      assert.equal(fork.thread.forkedFromId, threadId);
      assert.equal(fork.thread.turns.length, 1);
      assert.equal(fork.thread.name, "Renamed");

      const fromArchive = c.frames.length;
      assert.deepEqual(await c.call("thread/archive", { threadId }), {});
      await c.waitFor((f) => f.method === "thread/archived" && f.params.threadId === threadId, { from: fromArchive });
      const active = await c.call("thread/list", { limit: 100 });
      assert.ok(!active.data.some((t: Json) => t.id === threadId));
      const archived = await c.call("thread/list", { archived: true, limit: 100 });
      assert.ok(archived.data.some((t: Json) => t.id === threadId));
      const un = await c.call("thread/unarchive", { threadId });
      assert.equal(un.thread.status.type, "notLoaded");
      assert.deepEqual(await c.call("thread/delete", { threadId }), {});
      const gone = await c.request("thread/delete", { threadId });
      assert.equal(gone.error.message, `no rollout found for thread id ${threadId}`);
    });

    test("sandbox: under workspace-write a write outside the workspace and a network call both fail", async () => {
      const c = await connect();
      // /usr is bound read-only inside the sandbox; /tmp (and /var/tmp, a link to it) is private to each command.
      const outside = `/usr/threadmesh-outside-${kind}-${process.pid}.txt`;
      const outsideTmp = join(topo.workspaceRoot, "..", `outside-${kind}.txt`);
      const server = createServer((_req, res) => res.end("reachable"));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      const port = (server.address() as { port: number }).port;
      try {
        const threadId = await startThread(c, { approvalPolicy: "never", sandbox: "workspace-write" });
        sim.script(threadId, [
          { output: [{ type: "function_call", name: "shell", callId: "call-out", arguments: { command: ["bash", "-lc", `echo x > ${outside}`] } }] },
          { output: [{ type: "function_call", name: "shell", callId: "call-tmp", arguments: { command: ["bash", "-lc", `echo x > ${outsideTmp}`] } }] },
          { output: [{ type: "function_call", name: "shell", callId: "call-net", arguments: { command: ["bash", "-lc", `exec 3<>/dev/tcp/127.0.0.1/${port}`] } }] },
          { output: [{ type: "function_call", name: "shell", callId: "call-in", arguments: { command: ["bash", "-lc", "echo inside > inside.txt && cat inside.txt"] } }] },
          { output: [{ type: "message", text: "checked" }] },
        ]);
        const { from } = await runTurn(c, threadId, "probe the sandbox");
        const items = c.frames.slice(from).filter((f) => f.method === "item/completed" && f.params.item.type === "commandExecution").map((f) => f.params.item);
        const byId = new Map<string, Json>(items.map((i: Json) => [i.id as string, i]));
        assert.notEqual(byId.get("call-out")!.exitCode, 0);
        assert.ok(!existsSync(outside), "nothing was written outside the workspace");
        assert.ok(!existsSync(outsideTmp), "a write to /tmp stays private to the sandboxed command");
        assert.notEqual(byId.get("call-net")!.exitCode, 0);
        assert.equal(byId.get("call-in")!.exitCode, 0);
        assert.match(byId.get("call-in")!.aggregatedOutput, /(^|\n)inside\n$/);
      } finally {
        server.close();
      }
    });

    test("a thread started without cwd gets its own workspace under the tenant's workspace root", async () => {
      const c = await connect();
      const r = await c.call("thread/start", { cwd: null });
      assert.equal(r.cwd, join(topo.tenantRoot, r.thread.id));
      assert.ok(existsSync(r.cwd));
      assert.notEqual(r.cwd, process.cwd());
    });

    test("the Codex terminal client's start-up requests all answer with schema-valid results", async () => {
      const c = await connect({ experimentalApi: true });
      for (const [method, params] of [
        ["account/read", { refreshToken: false }],
        ["model/list", { includeHidden: false }],
        ["hooks/list", { cwds: [] }],
        ["account/bedrock/checkGovCloudRequirements", {}],
        ["config/read", { includeLayers: false }],
        ["configRequirements/read", undefined],
        ["collaborationMode/list", {}],
        ["thread/list", { limit: 25, sortKey: "updated_at" }],
        ["thread/loaded/list", {}],
        ["skills/list", { cwds: [] }],
        ["plugin/installed", {}],
        ["account/rateLimits/read", undefined],
      ] as const) {
        const r = await c.request(method, params);
        assert.ok("result" in r, `${method}: ${JSON.stringify(r.error)}`);
      }
      const models = await c.call("model/list", {});
      assert.ok(models.data.length >= 1);
      assert.equal(models.data.filter((m: Json) => m.isDefault).length, 1);
    });

    test("title generation flow: a second thread with outputSchema, unsubscribe, name/set", async () => {
      const c = await connect();
      const main = await startThread(c);
      const titleThread = await startThread(c, { ephemeral: true });
      sim.script(titleThread, [{ output: [{ type: "message", text: '{"title":"A title"}' }] }]);
      const { completed } = await runTurn(c, titleThread, "make a title", { outputSchema: { type: "object", properties: { title: { type: "string" } } } });
      assert.equal(completed.params.turn.status, "completed");
      const body = sim.requests(titleThread)[0] as Json;
      assert.ok(JSON.stringify(body.text ?? {}).includes("json_schema"), "outputSchema reached the model");
      assert.deepEqual(await c.call("thread/unsubscribe", { threadId: titleThread }), { status: "unsubscribed" });
      assert.deepEqual(await c.call("thread/name/set", { threadId: main, name: "A title" }), {});
    });

    test("bad input gets the right JSON-RPC error and the connection stays usable", async () => {
      const raw = await TestClient.connect(topo.url, { token: topo.token });
      clients.push(raw);
      const pre = await raw.request("thread/list", {}, 1);
      assert.deepEqual(pre.error, { code: -32600, message: "Not initialized" });
      await raw.call("initialize", { clientInfo: { name: "bad", version: "1" } });
      const again = await raw.request("initialize", { clientInfo: { name: "bad", version: "1" } });
      assert.deepEqual(again.error, { code: -32600, message: "Already initialized" });

      const parse = raw.waitFor((f) => f.error?.code === -32700, { from: raw.frames.length });
      raw.ws.send("{not json");
      assert.equal((await parse).id, null);
      const batch = raw.waitFor((f) => f.error?.message === "batch requests are not supported", { from: raw.frames.length });
      raw.ws.send("[]");
      assert.equal((await batch).error.code, -32600);
      const unknown = await raw.request("no/such/method", {});
      assert.equal(unknown.error.code, -32601);
      const badParams = await raw.request("turn/start", { input: [] });
      assert.equal(badParams.error.code, -32602);
      assert.match(badParams.error.message, /threadId/);
      const missingParams = await raw.request("thread/read");
      assert.equal(missingParams.error.code, -32602);
      const notFound = await raw.request("turn/start", { threadId: "01a20130-2a68-7f50-a61c-4522722a2494", input: [] });
      assert.deepEqual(notFound.error, { code: -32600, message: "thread not found: 01a20130-2a68-7f50-a61c-4522722a2494" });
      const bigId = await raw.sendRaw('{"id":9007199254740993,"method":"thread/loaded/list","params":{}}');
      void bigId;
      const echoed = await raw.waitFor((f) => typeof f.id === "number" && f.id > 9007199254740990, { from: 0 });
      assert.ok(echoed.result);
      const strId = await raw.request("thread/loaded/list", {}, "abc");
      assert.equal(strId.id, "abc");
      const binary = raw.waitFor((f) => f.error && /binary/.test(f.error.message), { from: raw.frames.length });
      raw.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      assert.equal((await binary).error.code, -32600);
      const tooBig = await raw.request("turn/start", { threadId: "01a20130-2a68-7f50-a61c-4522722a2494", input: [{ type: "text", text: "x".repeat(1_048_577) }] });
      assert.equal(tooBig.error.code, -32602);
      assert.equal(tooBig.error.data.input_error_code, "input_too_large");
      assert.ok((await raw.call("thread/loaded/list", {})).data, "connection still usable");
    });

    test("a frame over the size limit gets an error, then close 1009", async () => {
      const raw = await TestClient.connect(topo.url, { token: topo.token });
      clients.push(raw);
      const err = raw.waitFor((f) => f.error?.code === -32600, { from: 0 });
      raw.ws.send("x".repeat(9 * 1024 * 1024));
      await err;
      assert.equal((await raw.waitClose()).code, 1009);
    });

    test("upgrades: a wrong token is 401 with a reason, an Origin header is 403", async () => {
      await assert.rejects(TestClient.connect(topo.url, { token: "wrong" }), /401/);
      await assert.rejects(TestClient.connect(topo.url, { token: topo.token, headers: { origin: "https://evil.example" } }), /403/);
      const status = await new Promise<number>((resolve, reject) => {
        const u = new URL(topo.url.replace("ws://", "http://") + "/readyz");
        httpRequest(u, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject).end();
      });
      assert.equal(status, 200);
    });

    test("after a full restart, resume continues the conversation with its history", async () => {
      const c = await connect();
      const threadId = await startThread(c);
      sim.script(threadId, [{ output: [{ type: "message", text: "Remember the number 42." }] }, { output: [{ type: "message", text: "It was 42." }] }]);
      await runTurn(c, threadId, "pick a number");
      await c.close();
      await topo.restart();
      const d = await connect();
      const resumed = await d.call("thread/resume", { threadId });
      assert.equal(resumed.thread.turns.length, 1);
      const { completed } = await runTurn(d, threadId, "what was it?");
      assert.equal(completed.params.turn.status, "completed");
      const req = sim.requests(threadId)[1] as Json;
      const text = JSON.stringify(req.input);
      assert.match(text, /pick a number/);
      assert.match(text, /Remember the number 42/);
      assert.match(text, /what was it\?/);
    });

    test("every server message of this suite validates against the official Codex schema", () => {
      const frames = clients.reduce((n, c) => n + c.frames.length, 0);
      assert.ok(frames > 100, `the suite exchanged ${frames} frames`);
      assert.deepEqual(clients.flatMap((c) => c.schemaViolations), []);
    });
  });
}
