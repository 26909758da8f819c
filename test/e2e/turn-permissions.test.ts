import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { SHARED_CAPS_ENV } from "../support/policy-env.ts";

type Json = Record<string, any>;

/**
 * `turn/start.permissions` (experimental) against the embedded mesh with a shared deployment's caps (at
 * most workspace-write), commands run under bubblewrap: a built-in profile sets the sandbox for this
 * turn and later ones, as Codex does, and is reported back as `activePermissionProfile`; an explicit
 * `sandboxPolicy` replaces it; a profile beyond the caps is refused naming `permissions`. Overrides that
 * change the thread's settings are announced with `thread/settings/updated` before the response.
 */
describe("turn/start permission profiles (embedded, shared-deployment caps)", () => {
  let sim: ModelSim;
  let topo: Topology;
  const clients: TestClient[] = [];

  const connect = async (experimentalApi = true): Promise<TestClient> => {
    const c = await TestClient.initialized(topo.url, { token: topo.token, experimentalApi });
    clients.push(c);
    return c;
  };
  const shell = (callId: string, script: string) => ({ type: "function_call" as const, name: "shell", callId, arguments: { command: ["bash", "-lc", script] } });
  const say = (text: string) => ({ output: [{ type: "message" as const, text }] });
  /** Runs a turn; returns the frames from its request on and the command item it completed. */
  /**
   * Runs a turn; returns its completion, the command item it completed and the `thread/settings/updated`
   * its overrides caused (Codex sends it before the turn/start response, only on a change).
   */
  const runTurn = async (c: TestClient, threadId: string, extra: Json = {}): Promise<{ completed: Json; command: Json; settings: Json | undefined }> => {
    const from = c.frames.length;
    const r = await c.call("turn/start", { threadId, input: [{ type: "text", text: "write a file" }], ...extra });
    const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === r.turn.id, { from });
    const frames = c.frames.slice(from);
    const command = frames.find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution");
    assert.ok(command, "the turn ran a command");
    const updates = frames.filter((f) => f.method === "thread/settings/updated");
    assert.ok(updates.length <= 1, "one thread/settings/updated per turn/start");
    const reply = frames.findIndex((f) => f.id !== undefined && f.result?.turn?.id === r.turn.id);
    if (updates[0]) assert.ok(frames.indexOf(updates[0]) < reply, "thread/settings/updated precedes the turn/start response");
    return { completed, command: command.params.item, settings: updates[0]?.params };
  };
  const resumed = async (threadId: string): Promise<Json> => {
    const other = await connect();
    return other.call("thread/resume", { threadId, excludeTurns: true });
  };

  before(async () => {
    sim = await startModelSim({ port: 0 });
    const t = await startTopology("embedded", { simUrl: sim.url, extraEnv: { ...SHARED_CAPS_ENV, THREADMESH_SIM_TTFT_MS: "0" } });
    if (!t) throw new Error("the embedded topology did not start");
    topo = t;
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await topo?.stop();
    await sim?.close();
  });

  test(":read-only at turn/start cannot write in the workspace, stays for the next turn, and a sandboxPolicy replaces it", async () => {
    const c = await connect();
    const started = await c.call("thread/start", { approvalPolicy: "never", sandbox: "workspace-write" });
    const threadId = started.thread.id as string;
    const cwd = started.cwd as string;
    assert.equal(started.activePermissionProfile, null);
    sim.script(threadId, [
      { output: [shell("call-ro", "echo one > first.txt")] },
      say("first"),
      { output: [shell("call-kept", "echo two > second.txt")] },
      say("second"),
      { output: [shell("call-rw", "echo three > third.txt")] },
      say("third"),
    ]);

    const first = await runTurn(c, threadId, { permissions: ":read-only" });
    assert.equal(first.completed.params.turn.status, "completed");
    assert.notEqual(first.command.exitCode, 0, `a read-only command wrote: ${JSON.stringify(first.command)}`);
    assert.ok(!existsSync(join(cwd, "first.txt")), "nothing was written under :read-only");
    assert.equal(first.settings?.threadId, threadId);
    assert.deepEqual(first.settings?.threadSettings.activePermissionProfile, { id: ":read-only", extends: null });
    assert.deepEqual(first.settings?.threadSettings.sandboxPolicy, { type: "readOnly", networkAccess: false });
    assert.equal(first.settings?.threadSettings.cwd, cwd);
    const afterFirst = await resumed(threadId);
    assert.deepEqual(afterFirst.activePermissionProfile, { id: ":read-only", extends: null });
    assert.deepEqual(afterFirst.sandbox, { type: "readOnly", networkAccess: false });

    // Codex: "this turn and subsequent turns".
    const second = await runTurn(c, threadId);
    assert.notEqual(second.command.exitCode, 0, `the profile was dropped: ${JSON.stringify(second.command)}`);
    assert.ok(!existsSync(join(cwd, "second.txt")), "the next turn is still read-only");
    assert.equal(second.settings, undefined, "no settings changed, none reported");

    const third = await runTurn(c, threadId, { sandboxPolicy: { type: "workspaceWrite" } });
    assert.equal(third.command.exitCode, 0, JSON.stringify(third.command));
    assert.ok(existsSync(join(cwd, "third.txt")), "workspace-write writes in the workspace");
    assert.equal(third.settings?.threadSettings.activePermissionProfile, null);
    assert.equal(third.settings?.threadSettings.sandboxPolicy.type, "workspaceWrite");
    const afterThird = await resumed(threadId);
    assert.equal(afterThird.activePermissionProfile, null);
    assert.equal(afterThird.sandbox.type, "workspaceWrite");
  });

  test(":workspace is reported back; a profile beyond the caps, a profile with sandboxPolicy or an unknown one is refused and changes nothing", async () => {
    const c = await connect();
    const started = await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" });
    const threadId = started.thread.id as string;
    sim.script(threadId, [say("stored"), { output: [shell("call-ws", "echo ok > ws.txt")] }, say("done")]);
    // A first turn stores the thread, so that another connection can resume it.
    const from = c.frames.length;
    const first = await c.call("turn/start", { threadId, input: [{ type: "text", text: "hi" }] });
    await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === first.turn.id, { from });
    const refusals: Array<[Json, number, RegExp, Json | undefined]> = [
      [{ permissions: ":danger-full-access" }, -32602, /^permissions danger-full-access is not allowed by the server \(at most workspace-write\)$/, { field: "permissions" }],
      [{ permissions: ":read-only", sandboxPolicy: { type: "readOnly" } }, -32600, /^`permissions` cannot be combined with `sandboxPolicy`$/, undefined],
      [{ permissions: ":nope" }, -32600, /unknown built-in profile `:nope`/, undefined],
      [{ permissions: "custom" }, -32600, /requires a `\[permissions\]` table/, undefined],
    ];
    for (const [extra, code, message, data] of refusals) {
      const r = await c.request("turn/start", { threadId, input: [{ type: "text", text: "x" }], ...extra });
      assert.ok(r.error, `${JSON.stringify(extra)} was accepted`);
      assert.equal(r.error.code, code, r.error.message);
      assert.match(r.error.message, message);
      if (data) assert.deepEqual(r.error.data, data);
    }
    const unchanged = await resumed(threadId);
    assert.equal(unchanged.activePermissionProfile, null);
    assert.equal(unchanged.sandbox.type, "readOnly", "refusals left the thread's sandbox alone");

    const turn = await runTurn(c, threadId, { permissions: ":workspace" });
    assert.equal(turn.command.exitCode, 0, JSON.stringify(turn.command));
    assert.ok(existsSync(join(started.cwd as string, "ws.txt")));
    assert.deepEqual(turn.settings?.threadSettings.activePermissionProfile, { id: ":workspace", extends: null });
    const after = await resumed(threadId);
    assert.deepEqual(after.activePermissionProfile, { id: ":workspace", extends: null });
    assert.equal(after.sandbox.type, "workspaceWrite");
  });

  test("thread/resume and thread/fork take a profile the same way; a sandbox drops it; one beyond the caps is refused", async () => {
    const c = await connect();
    const started = await c.call("thread/start", { approvalPolicy: "never", sandbox: "workspace-write" });
    const threadId = started.thread.id as string;
    sim.script(threadId, [say("stored")]);
    const from = c.frames.length;
    const first = await c.call("turn/start", { threadId, input: [{ type: "text", text: "hi" }] });
    await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === first.turn.id, { from });

    const forked = await c.call("thread/fork", { threadId, permissions: ":read-only" });
    assert.deepEqual(forked.activePermissionProfile, { id: ":read-only", extends: null });
    assert.deepEqual(forked.sandbox, { type: "readOnly", networkAccess: false });
    const refork = await c.call("thread/fork", { threadId: forked.thread.id, sandbox: "workspace-write" });
    assert.equal(refork.activePermissionProfile, null);
    assert.equal(refork.sandbox.type, "workspaceWrite");

    const other = await connect();
    const beyond = await other.request("thread/resume", { threadId, permissions: ":danger-full-access" });
    assert.equal(beyond.error?.code, -32602, JSON.stringify(beyond));
    const both = await other.request("thread/resume", { threadId, permissions: ":read-only", sandbox: "read-only" });
    assert.match(both.error?.message ?? "", /^`permissions` cannot be combined with `sandbox`$/);
    const resumed = await other.call("thread/resume", { threadId, permissions: ":read-only", excludeTurns: true });
    assert.deepEqual(resumed.activePermissionProfile, { id: ":read-only", extends: null });
    assert.deepEqual(resumed.sandbox, { type: "readOnly", networkAccess: false });
  });

  test("permissions at turn/start needs the experimental API", async () => {
    const c = await connect(false);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    const r = await c.request("turn/start", { threadId, input: [{ type: "text", text: "x" }], permissions: ":read-only" });
    assert.ok(r.error, "accepted without experimentalApi");
    assert.match(r.error.message, /permissions/);
  });
});
