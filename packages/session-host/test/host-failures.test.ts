import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";

type Json = Record<string, any>;

/** Runs one turn whose model stream follows `script`; returns its `turn/completed` and `error` params. */
async function failingTurn(h: Harness, script: Json): Promise<{ threadId: string; from: number; completed: Json; error: Json }> {
  const c = h.client;
  const { threadId } = await startThread(c);
  h.sim.script(threadId, [script as never]);
  const from = c.frames.length;
  const { turn } = await c.call("turn/start", { threadId, input: text("fail please") });
  const completed = await c.waitTurnCompleted(threadId, turn.id, from);
  const error = c.notifications(threadId, from).find((f) => f.method === "error")!;
  return { threadId, from, completed: completed.params, error: error.params };
}

describe("session host: model failures", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test("response.failed: systemError, error, failed turn (§5.5); read reports systemError until the next turn", async () => {
    const c = h.client;
    const { threadId, from, completed, error } = await failingTurn(h, { output: [{ type: "message", text: "partial" }], fail: { kind: "failed", message: "boom" } });
    const expected = { message: "stream disconnected before completion: boom", codexErrorInfo: "other", additionalDetails: null, misalignment: null };
    assert.deepEqual(error, { threadId, turnId: completed.turn.id, error: expected, willRetry: false });
    assert.equal(completed.turn.status, "failed");
    assert.deepEqual(completed.turn.error, expected);
    assert.deepEqual(completed.turn.items, []);
    assert.equal(completed.turn.itemsView, "notLoaded");
    assert.deepEqual(c.trace(threadId, from).slice(-4), ["account/rateLimits/updated", "thread/status/changed:systemError", "error", "turn/completed:failed"]);
    const read = await c.call("thread/read", { threadId });
    assert.deepEqual(read.thread.status, { type: "systemError" });

    h.sim.script(threadId, [{ output: [{ type: "message", text: "recovered" }] }]);
    const next = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("again") });
    const done = await c.waitTurnCompleted(threadId, turn.id, next);
    assert.equal(done.params.turn.status, "completed");
    assert.deepEqual((await c.call("thread/read", { threadId })).thread.status, { type: "idle" });
  });

  test("response.incomplete fails the turn with Codex's message, and the usage it carried counts", async () => {
    const c = h.client;
    const usage = { inputTokens: 321, cachedTokens: 0, outputTokens: 12 };
    const { threadId, from, completed } = await failingTurn(h, { output: [{ type: "message", text: "cut by the limit" }], usage, fail: { kind: "incomplete" } });
    assert.equal(completed.turn.status, "failed");
    assert.equal(completed.turn.error.message, "Incomplete response returned, reason: max_output_tokens");
    const reported = c.notifications(threadId, from).find((f) => f.method === "thread/tokenUsage/updated");
    assert.ok(reported, "the incomplete response's usage is reported");
    assert.deepEqual([reported.params.tokenUsage.last.inputTokens, reported.params.tokenUsage.last.outputTokens], [321, 12]);
    assert.deepEqual(c.trace(threadId, from).slice(-5), ["thread/tokenUsage/updated", "account/rateLimits/updated", "thread/status/changed:systemError", "error", "turn/completed:failed"]);
  });

  test("a cut stream fails the turn as responseStreamDisconnected", async () => {
    const { completed } = await failingTurn(h, { output: [{ type: "message", text: "never finishes" }], fail: { kind: "cut", afterEvents: 4 } });
    assert.equal(completed.turn.status, "failed");
    assert.deepEqual(completed.turn.error.codexErrorInfo, { responseStreamDisconnected: { httpStatusCode: null } });
    assert.match(completed.turn.error.message, /^stream disconnected before completion/);
  });

  test("an HTTP error fails the turn", async () => {
    const { threadId, from, completed } = await failingTurn(h, { output: [], fail: { kind: "http", status: 500, message: "upstream broke" } });
    assert.equal(completed.turn.status, "failed");
    assert.match(completed.turn.error.message, /500/);
    assert.match(completed.turn.error.message, /upstream broke/);
    assert.deepEqual(h.client.trace(threadId, from).slice(-3), ["thread/status/changed:systemError", "error", "turn/completed:failed"]);
  });

  test("an error event fails the turn with its message", async () => {
    const { completed } = await failingTurn(h, { output: [{ type: "message", text: "x" }], fail: { kind: "error", message: "rate limited upstream", afterEvents: 2 } });
    assert.equal(completed.turn.status, "failed");
    assert.match(completed.turn.error.message, /rate limited upstream/);
  });

});

describe("session host: silent model streams", () => {
  let h: Harness;
  before(async () => {
    // A short idle timeout so a silent stream fails quickly; only silence is tested here, since on a
    // loaded machine a healthy first request can take longer than this.
    h = await startHarness({ model: { idleTimeoutMs: 400 } });
  });
  after(async () => {
    await h.close();
  });

  test("a stream that goes silent fails after the idle timeout instead of hanging", async () => {
    const { completed } = await failingTurn(h, { output: [{ type: "message", text: "stall" }], fail: { kind: "hang", afterEvents: 3 } });
    assert.equal(completed.turn.status, "failed");
    assert.equal(completed.turn.error.message, "stream disconnected before completion: idle timeout waiting for SSE");
    assert.deepEqual(completed.turn.error.codexErrorInfo, { responseStreamDisconnected: { httpStatusCode: null } });
  });

  test("a server that never answers fails after the idle timeout too", async () => {
    const { completed } = await failingTurn(h, { output: [], fail: { kind: "hang", afterEvents: 0 } });
    assert.equal(completed.turn.status, "failed");
    assert.match(completed.turn.error.message, /idle timeout/);
  });
});
