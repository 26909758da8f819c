import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Metrics, noopTelemetry, startMetricsServer, type MetricsServer } from "@threadmesh/telemetry";
import { startHarness, startThread, text, type Harness } from "./host-harness.ts";

/** Value of one sample line of a Prometheus text exposition; undefined when absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("session host: metrics endpoint", () => {
  let h: Harness;
  let server: MetricsServer;
  const metrics = new Metrics();
  before(async () => {
    h = await startHarness({ telemetry: { ...noopTelemetry(), metrics } });
    server = await startMetricsServer({ metrics, port: 0, readiness: async () => (h.host.state === "running" ? { ready: true } : { ready: false, reason: h.host.state }) });
  });
  after(async () => {
    await server.close();
    await h.close();
  });

  test("/metrics reports model latency, tokens and tool calls after a turn", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [
      { output: [{ type: "function_call", name: "update_plan", callId: "call-plan", arguments: { plan: [{ step: "reply", status: "in_progress" }] } }], usage: { inputTokens: 50, outputTokens: 5 } },
      { output: [{ type: "message", text: ["Hel", "lo"] }], usage: { inputTokens: 120, cachedTokens: 40, outputTokens: 7, reasoningTokens: 3 } },
    ]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hi") });
    await c.waitTurnCompleted(threadId, turn.id, from);

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const body = await res.text();
    assert.equal(sample(body, "tm_model_ttft_seconds_count"), 2);
    assert.equal(sample(body, 'tm_model_stream_seconds_count{outcome="ok"}'), 2);
    assert.equal(sample(body, 'tm_model_tokens_total{kind="input"}'), 170);
    assert.equal(sample(body, 'tm_model_tokens_total{kind="cached_input"}'), 40);
    assert.equal(sample(body, 'tm_model_tokens_total{kind="output"}'), 12);
    assert.equal(sample(body, 'tm_model_tokens_total{kind="reasoning_output"}'), 3);
    assert.equal(sample(body, 'tm_host_tool_calls_total{tool="update_plan",outcome="completed"}'), 1);
    assert.equal(sample(body, 'tm_host_commands_total{method="turn/start"}'), 1);
    assert.equal(sample(body, "tm_host_threads_loaded"), 1);
    assert.equal(sample(body, "tm_host_turns_active"), 0);
    assert.equal(sample(body, 'tm_host_placements_total{outcome="accepted"}'), 1, "the thread/start");
    assert.equal(sample(body, 'tm_host_placements_total{outcome="refused"}'), 0);
    assert.equal(sample(body, "tm_host_stale_epoch_rejections_total"), 0);
  });

  test("a failed model request counts as an error, without a first token", async () => {
    const c = h.client;
    const { threadId } = await startThread(c);
    h.sim.script(threadId, [{ output: [], fail: { kind: "http", status: 400, message: "bad request" } }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("hi") });
    await c.waitTurnCompleted(threadId, turn.id, from);
    const body = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(sample(body, 'tm_model_stream_seconds_count{outcome="error"}'), 1);
    assert.equal(sample(body, "tm_model_ttft_seconds_count"), 2);
  });

  test("/healthz and /readyz answer; other paths are 404", async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.deepEqual([health.status, await health.text()], [200, "ok"]);
    const ready = await fetch(`${server.url}/readyz`);
    assert.deepEqual([ready.status, await ready.text()], [200, "ok"]);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/metrics`, { method: "POST" })).status, 405);
  });
});
