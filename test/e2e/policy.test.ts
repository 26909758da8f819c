import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { SHARED_CAPS_ENV } from "../support/policy-env.ts";

type Json = Record<string, any>;

/**
 * Server-side policy caps and workspace confinement over real WebSockets against the embedded mesh
 * (`threadmesh dev`) configured as a shared deployment: at most workspace-write, escalations off, no
 * network, cwds confined to `<workspace root>/<tenant>`. A second mesh allows full access but not
 * `never` without a sandbox.
 */
describe("policy caps and workspace confinement (embedded, shared-deployment caps)", () => {
  let sim: ModelSim;
  let shared: Topology;
  let fullAccess: Topology;
  let outsideDir: string;
  const clients: TestClient[] = [];

  const connect = async (topo: Topology): Promise<TestClient> => {
    const c = await TestClient.initialized(topo.url, { token: topo.token });
    clients.push(c);
    return c;
  };
  /** The JSON-RPC error of a request that must fail. */
  const refused = async (c: TestClient, method: string, params: Json): Promise<{ code: number; message: string; data: Json }> => {
    const r = await c.request(method, params);
    assert.ok(r.error, `${method} ${JSON.stringify(params)} was accepted: ${JSON.stringify(r.result)}`);
    return r.error;
  };
  const assertRefused = async (c: TestClient, method: string, params: Json, field: string, message: RegExp): Promise<void> => {
    const e = await refused(c, method, params);
    assert.equal(e.code, -32602, `${method} ${JSON.stringify(params)}: ${e.message}`);
    assert.deepEqual(e.data, { field });
    assert.match(e.message, message);
  };
  const runTurn = async (c: TestClient, threadId: string, text: string, extra: Json = {}): Promise<{ from: number; completed: Json }> => {
    const from = c.frames.length;
    const r = await c.call("turn/start", { threadId, input: [{ type: "text", text }], ...extra });
    const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === r.turn.id, { from });
    return { from, completed };
  };

  before(async () => {
    sim = await startModelSim({ port: 0 });
    outsideDir = realpathSync(mkdtempSync(join(tmpdir(), "tm-e2e-outside-")));
    const [a, b] = await Promise.all([
      startTopology("embedded", { simUrl: sim.url, extraEnv: { ...SHARED_CAPS_ENV, THREADMESH_SIM_TTFT_MS: "0" } }),
      startTopology("embedded", { simUrl: sim.url, extraEnv: { ...SHARED_CAPS_ENV, THREADMESH_MAX_SANDBOX: "danger-full-access" } }),
    ]);
    if (!a || !b) throw new Error("the embedded topology did not start");
    shared = a;
    fullAccess = b;
    mkdirSync(shared.tenantRoot, { recursive: true });
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await shared?.stop();
    await fullAccess?.stop();
    await sim?.close();
    rmSync(outsideDir, { recursive: true, force: true });
  });

  test("danger-full-access is refused naming sandbox, at thread/start, resume and fork", async () => {
    const c = await connect(shared);
    await assertRefused(c, "thread/start", { sandbox: "danger-full-access" }, "sandbox", /^sandbox danger-full-access is not allowed by the server \(at most workspace-write\)$/);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    sim.script(threadId, [{ output: [{ type: "message", text: "ok" }] }]);
    await runTurn(c, threadId, "materialise");
    await assertRefused(c, "thread/resume", { threadId, sandbox: "danger-full-access" }, "sandbox", /danger-full-access/);
    await assertRefused(c, "thread/fork", { threadId, sandbox: "danger-full-access" }, "sandbox", /danger-full-access/);
    const resumed = await c.call("thread/resume", { threadId, excludeTurns: true });
    assert.deepEqual(resumed.sandbox.type, "workspaceWrite", "the refused resume left the thread's sandbox alone");
  });

  test("never without a sandbox is refused naming approvalPolicy where full access itself is allowed", async () => {
    const c = await connect(fullAccess);
    await assertRefused(c, "thread/start", { approvalPolicy: "never", sandbox: "danger-full-access" }, "approvalPolicy", /^approvalPolicy never is not allowed without a sandbox by the server$/);
    const ok = await c.call("thread/start", { approvalPolicy: "on-request", sandbox: "danger-full-access" });
    assert.deepEqual(ok.sandbox, { type: "dangerFullAccess" });
    await assertRefused(c, "turn/start", { threadId: ok.thread.id, input: [{ type: "text", text: "x" }], approvalPolicy: "never" }, "approvalPolicy", /without a sandbox/);
    await assertRefused(c, "turn/start", { threadId: ok.thread.id, input: [{ type: "text", text: "x" }], approvalPolicy: "never", sandboxPolicy: { type: "externalSandbox" } }, "approvalPolicy", /without a sandbox/);
  });

  test("cwd / , /etc, a nonexistent directory, a symlink out and .. tricks are refused naming cwd", async () => {
    const c = await connect(shared);
    const link = join(shared.tenantRoot, "etc-link");
    symlinkSync("/etc", link);
    await assertRefused(c, "thread/start", { cwd: "/" }, "cwd", /^cwd \/ is outside the workspace root /);
    await assertRefused(c, "thread/start", { cwd: "/etc" }, "cwd", /^cwd \/etc is outside the workspace root /);
    await assertRefused(c, "thread/start", { cwd: join(shared.tenantRoot, "no-such-dir") }, "cwd", /does not exist$/);
    await assertRefused(c, "thread/start", { cwd: link }, "cwd", /is outside the workspace root/);
    await assertRefused(c, "thread/start", { cwd: join(shared.tenantRoot, "..", "..") }, "cwd", /is outside the workspace root/);
    await assertRefused(c, "thread/start", { cwd: "../.." }, "cwd", /is outside the workspace root/);
    await assertRefused(c, "thread/start", { cwd: outsideDir }, "cwd", /is outside the workspace root/);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    await assertRefused(c, "turn/start", { threadId, input: [{ type: "text", text: "x" }], cwd: "/etc" }, "cwd", /is outside the workspace root/);
  });

  test("writableRoots outside the tenant's root are refused naming sandboxPolicy.writableRoots", async () => {
    const c = await connect(shared);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    for (const root of ["/etc", "/", "../..", outsideDir]) {
      await assertRefused(
        c,
        "turn/start",
        { threadId, input: [{ type: "text", text: "x" }], sandboxPolicy: { type: "workspaceWrite", writableRoots: [root] } },
        "sandboxPolicy.writableRoots",
        /is outside the workspace root/,
      );
    }
    const read = await c.call("thread/read", { threadId, includeTurns: false });
    assert.equal(read.thread.status.type, "idle", "no turn started");
  });

  test("a turn/start override beyond the cap is refused and leaves the thread as it was", async () => {
    const c = await connect(shared);
    const threadId = (await c.call("thread/start", { sandbox: "read-only" })).thread.id as string;
    await assertRefused(c, "turn/start", { threadId, input: [{ type: "text", text: "x" }], sandboxPolicy: { type: "dangerFullAccess" } }, "sandboxPolicy", /^sandboxPolicy danger-full-access is not allowed by the server/);
    await assertRefused(c, "turn/start", { threadId, input: [{ type: "text", text: "x" }], sandboxPolicy: { type: "externalSandbox", networkAccess: "enabled" } }, "sandboxPolicy", /externalSandbox/);
    sim.script(threadId, [{ output: [{ type: "message", text: "still read-only" }] }]);
    const { completed } = await runTurn(c, threadId, "within the caps");
    assert.equal(completed.params.turn.status, "completed");
    const resumed = await c.call("thread/resume", { threadId, excludeTurns: true });
    assert.deepEqual(resumed.sandbox, { type: "readOnly", networkAccess: false });
  });

  test("escalation disabled: a require_escalated shell call runs nowhere, nobody is asked, and the model reads the refusal", async () => {
    const c = await connect(shared);
    const threadId = (await c.call("thread/start", { approvalPolicy: "on-request", sandbox: "workspace-write" })).thread.id as string;
    const target = join(outsideDir, "escalated.txt");
    // The simulator turns `$ <command>` into a shell call with sandbox_permissions: "require_escalated".
    const { from, completed } = await runTurn(c, threadId, `$ echo escalated > ${target} && cat ${target}`);
    assert.equal(completed.params.turn.status, "completed");
    const methods = c.methods(from, threadId);
    assert.ok(!methods.includes("item/commandExecution/requestApproval"), `nobody was asked: ${methods.join(", ")}`);
    const commands = c.frames.slice(from).filter((f) => f.method === "item/started" && f.params.item.type === "commandExecution");
    assert.deepEqual(commands, [], "no command item: nothing ran");
    assert.equal(existsSync(target), false, "nothing was written outside the sandbox");
    const requests = sim.requests(threadId) as Json[];
    assert.equal(requests.length, 2, "the refusal went back to the model, which answered");
    const call = (requests[1]!.input as Json[]).find((i) => i.type === "function_call");
    assert.equal(JSON.parse(call!.arguments).sandbox_permissions, "require_escalated");
    const output = (requests[1]!.input as Json[]).find((i) => i.type === "function_call_output");
    assert.equal(output!.call_id, call!.call_id);
    assert.match(String(output!.output), /^escalation is disabled by the server; reject command/);
  });

  test("a patch outside the tenant's root is refused to the model and nothing is written", async () => {
    const c = await connect(shared);
    const threadId = (await c.call("thread/start", { approvalPolicy: "on-request", sandbox: "workspace-write" })).thread.id as string;
    const target = join(outsideDir, "patched.txt");
    sim.script(threadId, [
      { output: [{ type: "function_call", name: "apply_patch", callId: "call-out", arguments: { input: `*** Begin Patch\n*** Add File: ${target}\n+x\n*** End Patch\n` } }] },
      { output: [{ type: "message", text: "refused" }] },
    ]);
    const { from } = await runTurn(c, threadId, "patch outside");
    assert.ok(!c.methods(from, threadId).includes("item/fileChange/requestApproval"));
    assert.equal(existsSync(target), false);
    const output = ((sim.requests(threadId) as Json[])[1]!.input as Json[]).find((i) => i.type === "function_call_output");
    assert.match(String(output!.output), /^patch rejected: .* is outside the workspace root$/);
  });

  test("a request within the caps works: a cwd and writable root inside the tenant's root, network clamped off", async () => {
    const c = await connect(shared);
    const project = join(shared.tenantRoot, "project");
    const extra = join(shared.tenantRoot, "shared-notes");
    mkdirSync(project, { recursive: true });
    mkdirSync(extra, { recursive: true });
    const started = await c.call("thread/start", { cwd: project, approvalPolicy: "on-request", sandbox: "workspace-write" });
    assert.equal(started.cwd, project);
    const threadId = started.thread.id as string;
    const patch = `*** Begin Patch\n*** Add File: ${join(extra, "note.txt")}\n+within the caps\n*** End Patch\n`;
    sim.script(threadId, [
      { output: [{ type: "function_call", name: "apply_patch", callId: "call-in", arguments: { input: patch } }] },
      { output: [{ type: "message", text: "done" }] },
    ]);
    const { from, completed } = await runTurn(c, threadId, "write a note", {
      cwd: "project",
      sandboxPolicy: { type: "workspaceWrite", writableRoots: [extra], networkAccess: true },
    });
    assert.equal(completed.params.turn.status, "completed");
    const fc = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "fileChange")!;
    assert.equal(fc.params.item.status, "completed");
    assert.equal(readFileSync(join(extra, "note.txt"), "utf8"), "within the caps\n");
    assert.ok(!c.methods(from, threadId).includes("item/fileChange/requestApproval"), "a writable root needs no approval");
    const resumed = await c.call("thread/resume", { threadId, excludeTurns: true });
    assert.equal(resumed.cwd, project);
    assert.deepEqual(resumed.sandbox, { type: "workspaceWrite", writableRoots: [extra], networkAccess: false, excludeTmpdirEnvVar: false, excludeSlashTmp: false });
  });
});
