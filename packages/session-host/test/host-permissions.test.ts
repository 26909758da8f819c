import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, startThread, type Harness } from "./host-harness.ts";

const toolNames = (body: { tools?: unknown }): string[] => ((body.tools ?? []) as Array<{ name: string }>).map((t) => t.name);

describe("session host: permission profiles and config overrides at thread/start", () => {
  let h: Harness;
  before(async () => {
    // Refusing turns under event-loop lag is tested elsewhere; a busy shared machine must not refuse these.
    h = await startHarness({ config: { turnLagBudgetMs: 60_000 } });
  });
  after(async () => {
    await h.close();
  });

  test("each built-in profile maps to the sandbox it names and is reported back", async () => {
    const c = h.client;
    const cases = [
      [":read-only", "readOnly"],
      [":workspace", "workspaceWrite"],
      [":danger-full-access", "dangerFullAccess"],
    ] as const;
    for (const [id, type] of cases) {
      const { response } = await startThread(c, { permissions: id });
      assert.equal(response.sandbox.type, type, id);
      assert.deepEqual(response.activePermissionProfile, { id, extends: null });
    }
    const { response } = await startThread(c, {});
    assert.equal(response.activePermissionProfile, null);
  });

  test("unknown profiles and a profile with a sandbox get Codex's errors", async () => {
    const c = h.client;
    assert.deepEqual(await c.error("thread/start", { permissions: ":nope" }), {
      code: -32600,
      message: "failed to load configuration: default_permissions refers to unknown built-in profile `:nope`",
    });
    assert.equal((await c.error("thread/start", { permissions: "custom" })).message, "failed to load configuration: default_permissions requires a `[permissions]` table");
    assert.equal((await c.error("thread/start", { permissions: ":read-only", sandbox: "read-only" })).message, "`permissions` cannot be combined with `sandbox`");
  });

  test("a read-only profile keeps the thread's commands from writing", async () => {
    const c = h.client;
    const { threadId, response } = await startThread(c, { permissions: ":read-only", approvalPolicy: "never" });
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "c-w", arguments: { command: ["bash", "-lc", "echo x > written.txt"] } }] },
      { output: [{ type: "message", text: "tried" }] },
    ]);
    const from = c.frames.length;
    const r = await c.call("turn/start", { threadId, input: [{ type: "text", text: "write" }] });
    await c.waitTurnCompleted(threadId, r.turn.id, from);
    const item = c.notifications(threadId, from).find((f) => f.method === "item/completed" && f.params.item.id === "c-w")!.params.item;
    assert.notEqual(item.exitCode, 0, `${response.cwd}: ${item.aggregatedOutput}`);
  });

  test("features.shell_tool = false keeps shell from the tools offered to the model, in either config form", async () => {
    const c = h.client;
    for (const config of [{ "features.shell_tool": false, "features.apply_patch_tool": false }, { features: { shell_tool: false } }]) {
      const { threadId } = await startThread(c, { config });
      const from = c.frames.length;
      const r = await c.call("turn/start", { threadId, input: [{ type: "text", text: "title this" }] });
      await c.waitTurnCompleted(threadId, r.turn.id, from);
      const offered = toolNames(h.sim.requests(threadId)[0]!);
      assert.ok(!offered.includes("shell"), `offered: ${offered.join(", ")}`);
      assert.ok(offered.includes("update_plan"), `offered: ${offered.join(", ")}`);
    }
    const { threadId } = await startThread(c, {});
    const from = c.frames.length;
    const r = await c.call("turn/start", { threadId, input: [{ type: "text", text: "hi" }] });
    await c.waitTurnCompleted(threadId, r.turn.id, from);
    assert.ok(toolNames(h.sim.requests(threadId)[0]!).includes("shell"));
  });
});
