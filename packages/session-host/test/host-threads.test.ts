import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { TENANT, startHarness, startThread, text, type Harness } from "./host-harness.ts";

type Json = Record<string, any>;

describe("session host: thread lifecycle", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  async function turn(threadId: string, prompt: string, reply: string): Promise<string> {
    const c = h.client;
    h.sim.script(threadId, [{ output: [{ type: "message", text: reply }] }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text(prompt) });
    await c.waitTurnCompleted(threadId, turn.id, from);
    return turn.id as string;
  }

  test("thread/start answers the full response shape and gives a thread without cwd its own workspace", async () => {
    const c = h.client;
    const from = c.frames.length;
    const r = await c.send("thread/start", {});
    assert.ok(r.ok);
    const res = r.result as Json;
    const id = res.thread.id as string;
    assert.equal(r.subscribe, id);
    assert.equal(res.cwd, join(h.workspaceRoot, TENANT, id));
    assert.ok(statSync(res.cwd).isDirectory());
    assert.deepEqual({ ...res, thread: undefined }, {
      thread: undefined,
      model: "sim-model",
      modelProvider: "openai",
      serviceTier: null,
      cwd: res.cwd,
      instructionSources: [],
      approvalPolicy: "on-request",
      approvalsReviewer: "user",
      sandbox: { type: "workspaceWrite", writableRoots: [], networkAccess: false, excludeTmpdirEnvVar: false, excludeSlashTmp: false },
      reasoningEffort: null,
      disabledPluginIds: [],
      runtimeWorkspaceRoots: [res.cwd],
      activePermissionProfile: null,
      multiAgentMode: "explicitRequestOnly",
    });
    const t = res.thread;
    assert.deepEqual(Object.keys(t).sort(), [
      "agentNickname", "agentRole", "attachedToThreadId", "canAcceptDirectInput", "cliVersion", "createdAt", "cwd", "daybreakEnabled",
      "environments", "ephemeral", "extra", "forkedFromId", "gitInfo", "historyMode", "id", "modelProvider", "model", "name", "originator",
      "parentThreadId", "path", "preview", "projectId", "reasoningEffort", "recencyAt", "section", "sectionEnteredAt", "sessionId", "source",
      "status", "threadSource", "turns", "updatedAt",
    ].sort());
    assert.equal(t.source, "vscode");
    assert.equal(t.cliVersion, "0.171.0");
    assert.equal(t.historyMode, "paginated");
    assert.equal(t.path, null);
    assert.deepEqual(t.status, { type: "idle" });
    assert.deepEqual(t.environments, [{ environmentId: "local", cwd: res.cwd, runtimeWorkspaceRoots: [res.cwd] }]);
    const started = await c.waitForMethod("thread/started", id, from);
    assert.ok(started.kind === "n");
    assert.deepEqual(started.params.thread, t);
    assert.deepEqual(c.trace(id, from), ["reply:thread/start", "thread/started"]);
  });

  test("a relative cwd is taken against the tenant's workspace root; an absolute one inside it is used as given", async () => {
    const c = h.client;
    const tenantRoot = join(h.workspaceRoot, TENANT);
    assert.deepEqual(await c.error("thread/start", { cwd: "relative/dir" }), { code: -32602, message: "cwd relative/dir does not exist", data: { field: "cwd" } });
    mkdirSync(join(tenantRoot, "relative", "dir"), { recursive: true });
    assert.equal((await c.call("thread/start", { cwd: "relative/dir" })).cwd, join(tenantRoot, "relative", "dir"));
    const r = await c.call("thread/start", { cwd: tenantRoot, sandbox: "read-only", approvalPolicy: "never" });
    assert.equal(r.cwd, tenantRoot);
    assert.deepEqual(r.sandbox, { type: "readOnly", networkAccess: false });
    assert.equal(r.approvalPolicy, "never");
  });

  test("resume: unmaterialized threads have no rollout; a loaded thread answers with turns, notices and usage", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    assert.deepEqual(await c.error("thread/resume", { threadId }), { code: -32600, message: `no rollout found for thread id ${threadId}` });
    assert.deepEqual(await c.error("thread/archive", { threadId }), { code: -32600, message: `no rollout found for thread id ${threadId}` });
    const turnId = await turn(threadId, "hello", "hi there");
    const other = h.connect("conn-resume");
    const from = other.frames.length;
    const r = await other.send("thread/resume", { threadId });
    assert.ok(r.ok);
    const res = r.result as Json;
    assert.equal(r.subscribe, threadId);
    assert.equal(JSON.parse(r.before![0]!).method, "deprecationNotice");
    assert.deepEqual(r.after!.map((s) => JSON.parse(s).method), ["thread/tokenUsage/updated"]);
    // The thread has no goal: every subscriber hears so after the response (an event, not a requester-only notice).
    await other.waitForMethod("thread/goal/cleared", threadId, from);
    assert.equal(JSON.parse(r.after![0]!).params.turnId, turnId);
    assert.equal(res.thread.turns.length, 1);
    assert.equal(res.thread.turns[0].itemsView, "full");
    assert.deepEqual(res.thread.turns[0].items.map((i: Json) => i.type), ["userMessage", "agentMessage"]);
    assert.deepEqual(res.collaborationMode, { mode: "default", settings: { model: "sim-model", reasoning_effort: null, developer_instructions: null } });
    assert.equal(res.thread.preview, "hello");
    assert.deepEqual(other.trace(threadId, from), ["reply:thread/resume", "thread/goal/cleared"], "no status change for a thread that was already loaded");
    const lean = await other.send("thread/resume", { threadId, excludeTurns: true });
    assert.ok(lean.ok);
    assert.deepEqual((lean.result as Json).thread.turns, []);
    assert.equal(lean.before, undefined);
  });

  test("unsubscribe answers unsubscribed, then notSubscribed; unknown threads notLoaded", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    const r = await c.send("thread/unsubscribe", { threadId });
    assert.deepEqual(r.ok && r.result, { status: "unsubscribed" });
    assert.equal(r.ok && r.unsubscribe, threadId);
    assert.deepEqual(await c.call("thread/unsubscribe", { threadId }), { status: "notSubscribed" });
    assert.deepEqual(await c.call("thread/unsubscribe", { threadId: "01a20130-2a68-7f50-a61c-4522722a2494" }), { status: "notLoaded" });
  });

  test("reads, pages, names, forks, archives, unarchives and deletes", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { cwd: join(h.workspaceRoot, TENANT) });
    const t1 = await turn(threadId, "list me", "listed");
    const t2 = await turn(threadId, "and again", "again");

    const list = await c.call("thread/list", { limit: 100, cwd: join(h.workspaceRoot, TENANT) });
    const listed = list.data.find((t: Json) => t.id === threadId);
    assert.deepEqual(listed.status, { type: "idle" }, "a loaded thread reports its live status");
    assert.ok((await c.call("thread/list", { searchTerm: "list me", limit: 100 })).data.some((t: Json) => t.id === threadId));
    assert.ok((await c.call("thread/loaded/list", {})).data.includes(threadId));

    const page1 = await c.call("thread/turns/list", { threadId, limit: 1 });
    assert.deepEqual(page1.data.map((t: Json) => t.id), [t2]);
    assert.deepEqual(page1.data[0].items.map((i: Json) => i.type), ["userMessage", "agentMessage"]);
    assert.equal(page1.data[0].itemsView, "summary");
    const page2 = await c.call("thread/turns/list", { threadId, limit: 1, cursor: page1.nextCursor });
    assert.deepEqual(page2.data.map((t: Json) => t.id), [t1]);
    assert.deepEqual(await c.error("thread/turns/list", { threadId, cursor: "garbage" }), { code: -32600, message: "invalid cursor: garbage" });
    const items = await c.call("thread/items/list", { threadId, turnId: t1 });
    assert.deepEqual(items.data.map((e: Json) => [e.turnId, e.item.type]), [[t1, "userMessage"], [t1, "agentMessage"]]);
    assert.equal(typeof items.data[0].completedAtMs, "number");
    assert.deepEqual((await c.call("thread/items/list", { threadId, turnId: "nope" })).data, []);
    const read = await c.send("thread/read", { threadId, includeTurns: true });
    assert.ok(read.ok);
    assert.equal((read.result as Json).thread.turns.length, 2);
    assert.equal(JSON.parse(read.before![0]!).method, "deprecationNotice");
    // Read state: unread from the first ended turn until marked read; a stale revision conflicts.
    const unread = (read.result as Json).readState;
    assert.deepEqual(unread.firstUnread, { type: "turn", turnId: t1 });
    const conflict = await c.error("thread/readState/update", { threadId, expectedRevision: "stale", operation: { type: "read" } });
    assert.deepEqual(conflict, { code: -32600, message: "read state changed", data: { reason: "readStateConflict", readState: unread } });
    const marked = await c.call("thread/readState/update", { threadId, expectedRevision: unread.revision, operation: { type: "read" } });
    assert.equal(marked.readState.firstUnread, null);
    assert.notEqual(marked.readState.revision, unread.revision);
    assert.deepEqual((await c.call("thread/read", { threadId })).readState, marked.readState);
    const reopened = await c.call("thread/readState/update", { threadId, expectedRevision: marked.readState.revision, operation: { type: "unread" } });
    assert.deepEqual(reopened.readState.firstUnread, { type: "threadStart" });

    assert.deepEqual(await c.error("thread/name/set", { threadId, name: "  " }), { code: -32600, message: "thread name must not be empty" });
    let from = c.frames.length;
    assert.deepEqual(await c.call("thread/name/set", { threadId, name: "Renamed" }), {});
    const named = await c.waitForMethod("thread/name/updated", threadId, from);
    assert.ok(named.kind === "n");
    assert.deepEqual(named.params, { threadId, threadName: "Renamed" });

    from = c.frames.length;
    const fork = await c.send("thread/fork", { threadId, lastTurnId: t1 });
    assert.ok(fork.ok);
    const forked = (fork.result as Json).thread;
    assert.equal(forked.forkedFromId, threadId);
    assert.equal(forked.name, "Renamed");
    assert.equal(forked.preview, "list me");
    assert.equal(forked.turns.length, 1);
    assert.equal(fork.subscribe, forked.id);
    assert.deepEqual(fork.after!.map((s) => JSON.parse(s).method), ["thread/tokenUsage/updated"]);
    // Hydrating a fork's history is deprecated as for a resume; a fork without turns hears nothing.
    assert.deepEqual(fork.before!.map((s) => JSON.parse(s).method), ["deprecationNotice"]);
    await c.waitForMethod("thread/started", forked.id, from);
    assert.deepEqual(await c.error("thread/fork", { threadId, lastTurnId: "nope" }), { code: -32600, message: "turn not found: nope" });
    assert.equal((await c.send("thread/fork", { threadId, excludeTurns: true })).before, undefined);
    h.sim.script(forked.id, [{ output: [{ type: "message", text: "forked reply" }] }]);
    const fromFork = c.frames.length;
    const ft = await c.call("turn/start", { threadId: forked.id, input: text("continue") });
    await c.waitTurnCompleted(forked.id, ft.turn.id, fromFork);
    const forkInput = JSON.stringify(h.sim.requests(forked.id)[0]!.input);
    assert.match(forkInput, /list me/);
    assert.doesNotMatch(forkInput, /and again/, "the fork stops at lastTurnId");

    from = c.frames.length;
    assert.deepEqual(await c.call("thread/archive", { threadId }), {});
    const archived = await c.waitForMethod("thread/archived", threadId, from);
    assert.deepEqual(c.trace(threadId, from), ["thread/status/changed:notLoaded", "reply:thread/archive", "thread/archived"]);
    assert.ok(archived.kind === "n" && archived.drop, "archive ends every subscription (tm-d)");
    assert.ok(c.notifications(threadId, from).every((f) => f.drop));
    assert.ok(!(await c.call("thread/loaded/list", {})).data.includes(threadId));
    assert.ok(!(await c.call("thread/list", { limit: 100 })).data.some((t: Json) => t.id === threadId));
    assert.ok((await c.call("thread/list", { archived: true, limit: 100 })).data.some((t: Json) => t.id === threadId));
    assert.deepEqual(await c.error("turn/start", { threadId, input: text("x") }), { code: -32600, message: `thread not found: ${threadId}` });
    assert.equal((await c.call("thread/read", { threadId })).thread.status.type, "notLoaded");

    from = c.frames.length;
    const un = await c.call("thread/unarchive", { threadId });
    assert.deepEqual(un.thread.status, { type: "notLoaded" });
    assert.equal(un.thread.environments, null);
    await c.waitForMethod("thread/unarchived", threadId, from);
    assert.deepEqual(await c.error("thread/unarchive", { threadId }), { code: -32600, message: `no archived rollout found for thread id ${threadId}` });

    from = c.frames.length;
    assert.deepEqual(await c.call("thread/name/set", { threadId, name: "Unloaded name" }), {});
    await c.waitForMethod("thread/name/updated", threadId, from);
    assert.equal((await c.call("thread/read", { threadId })).thread.name, "Unloaded name");

    from = c.frames.length;
    assert.deepEqual(await c.call("thread/delete", { threadId }), {});
    const deleted = await c.waitForMethod("thread/deleted", threadId, from);
    assert.ok(deleted.kind === "n" && deleted.drop);
    assert.deepEqual(await c.error("thread/delete", { threadId }), { code: -32600, message: `no rollout found for thread id ${threadId}` });
    assert.deepEqual(await c.error("thread/read", { threadId }), { code: -32600, message: `thread not loaded: ${threadId}` });
  });

  test("deleting a loaded thread announces notLoaded first", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    await turn(threadId, "x", "y");
    const from = c.frames.length;
    await c.call("thread/delete", { threadId });
    await c.waitForMethod("thread/deleted", threadId, from);
    assert.deepEqual(c.trace(threadId, from), ["thread/status/changed:notLoaded", "reply:thread/delete", "thread/deleted"]);
    assert.equal(await h.store.getThread(TENANT, threadId), null);
  });

  test("a resumed stored thread is announced idle before the response", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    await turn(threadId, "persist", "me");
    // Archive + unarchive leaves the thread stored and unloaded.
    const before = c.frames.length;
    await c.call("thread/archive", { threadId });
    await c.call("thread/unarchive", { threadId });
    await c.waitForMethod("thread/unarchived", threadId, before);
    const from = c.frames.length;
    const r = await c.call("thread/resume", { threadId, excludeTurns: true });
    assert.deepEqual(r.thread.status, { type: "idle" });
    assert.deepEqual(c.trace(threadId, from), ["thread/status/changed:idle", "reply:thread/resume"]);
    assert.ok((await c.call("thread/loaded/list", {})).data.includes(threadId));
  });

  test("every event of a thread carries a strictly increasing seq and the owner epoch", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    await turn(threadId, "count", "one two three");
    const events = c.frames.filter((f) => f.kind !== "reply" && f.threadId === threadId) as Array<{ seq: number }>;
    const seqs = events.map((f) => f.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
    const n = c.notifications(threadId);
    assert.ok(n.every((f) => f.epoch === 1 && f.frame.seq === f.seq && f.frame.epoch === 1 && typeof f.frame.emittedAtMs === "number"));
  });

  test("turn methods need a loaded thread; reads of unknown threads say not loaded", async () => {
    const c = h.client;
    const unknown = "01a20130-2a68-7f50-a61c-4522722a2494";
    assert.deepEqual(await c.error("turn/start", { threadId: unknown, input: [] }), { code: -32600, message: `thread not found: ${unknown}` });
    assert.deepEqual(await c.error("turn/interrupt", { threadId: unknown, turnId: "x" }), { code: -32600, message: `thread not found: ${unknown}` });
    assert.deepEqual(await c.error("thread/read", { threadId: unknown }), { code: -32600, message: `thread not loaded: ${unknown}` });
    assert.deepEqual(await c.error("thread/resume", { threadId: unknown }), { code: -32600, message: `no rollout found for thread id ${unknown}` });
    assert.deepEqual(await c.error("thread/name/set", { threadId: unknown, name: "x" }), { code: -32600, message: `thread not found: ${unknown}` });
    assert.ok(!existsSync(join(h.workspaceRoot, TENANT, unknown)));
  });
});
