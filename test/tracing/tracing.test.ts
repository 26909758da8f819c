import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.ts";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";
import { TestClient } from "../support/ws-client.ts";

type Json = Record<string, any>;

/** Service names per topology: `router` + `host` processes, or one `dev` process for both roles. */
const SERVICES: Record<TopologyKind, { router: string; host: string }> = {
  distributed: { router: "threadmesh-router", host: "threadmesh-host" },
  embedded: { router: "threadmesh-dev", host: "threadmesh-dev" },
};

function newTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/** The one span of the trace with this name (fails when there is none or several). */
function only(spans: readonly ReceivedSpan[], traceId: string, name: string): ReceivedSpan {
  const found = spans.filter((s) => s.traceId === traceId && s.name === name);
  assert.equal(found.length, 1, `expected one ${name} span in trace ${traceId}, got ${found.length}`);
  return found[0]!;
}

function has(spans: readonly ReceivedSpan[], traceId: string, names: string[]): boolean {
  return names.every((n) => spans.some((s) => s.traceId === traceId && s.name === n));
}

for (const kind of ["distributed", "embedded"] as const) {
  describe(`tracing across the mesh (${kind})`, () => {
    let otlp: OtlpReceiver;
    let sim: ModelSim;
    let topo: Topology;
    const clients: TestClient[] = [];
    const services = SERVICES[kind];

    before(async () => {
      otlp = await startOtlpReceiver();
      sim = await startModelSim({ port: 0 });
      const t = await startTopology(kind, {
        simUrl: sim.url,
        extraEnv: {
          ...OPERATOR_CAPS_ENV,
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_TRACES_EXPORTER: "otlp",
          OTEL_SDK_DISABLED: "false",
          // Spans leave within a tenth of a second, so the test waits on arrivals rather than on timers.
          OTEL_BSP_SCHEDULE_DELAY: "100",
        },
      });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await topo?.stop();
      await sim?.close();
      await otlp?.close();
    });

    test("a turn's request trace covers the router, the host, the turn, the model stream and its tools", async () => {
      const c = await TestClient.initialized(topo.url, { token: topo.token });
      clients.push(c);
      const threadId = (await c.call("thread/start", { approvalPolicy: "on-request", sandbox: "workspace-write" })).thread.id as string;
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-traced", arguments: { command: ["bash", "-lc", "echo traced"], sandbox_permissions: "require_escalated", justification: "trace it" } }] },
        { output: [{ type: "message", text: ["Traced", " answer."] }], usage: { inputTokens: 120, outputTokens: 7 } },
      ]);
      const client = newTraceparent();
      const from = c.frames.length;
      const frame = { id: "traced-turn", method: "turn/start", params: { threadId, input: [{ type: "text", text: "trace me" }] }, trace: { traceparent: client.traceparent } };
      const reply = await c.sendRaw(JSON.stringify(frame), frame.id, frame.method);
      const turnId = reply.result.turn.id as string;
      const approval = await c.waitForMethod("item/commandExecution/requestApproval", { from });
      c.respond(approval.id, { decision: "accept" });
      const completed = await c.waitFor((f: Json) => f.method === "turn/completed" && f.params.turn.id === turnId, { from });
      assert.equal(completed.params.turn.status, "completed");

      const names = ["threadmesh.request turn/start", "threadmesh.host turn/start", "threadmesh.turn", "threadmesh.model.stream", "threadmesh.tool shell", "threadmesh.approval.wait"];
      // The turn span ends with the turn; both model streams must have arrived too.
      await otlp.waitFor((spans) => has(spans, client.traceId, names) && spans.filter((s) => s.traceId === client.traceId && s.name === "threadmesh.model.stream").length === 2);
      const spans = otlp.spans;

      const router = only(spans, client.traceId, "threadmesh.request turn/start");
      assert.equal(router.service, services.router);
      assert.equal(router.parentSpanId, client.spanId, "the client's traceparent parents the router span");
      assert.equal(router.attributes["threadmesh.tenant"], "default");
      assert.equal(router.attributes["rpc.method"], "turn/start");
      assert.equal(router.attributes["threadmesh.thread_id"], threadId);
      assert.equal(typeof router.attributes["threadmesh.connection_id"], "string");
      assert.equal(router.attributes["threadmesh.outcome"], "ok");

      const host = only(spans, client.traceId, "threadmesh.host turn/start");
      assert.equal(host.service, services.host);
      assert.equal(host.parentSpanId, router.spanId, "the router span parents the host span across the bus");
      assert.equal(host.attributes["threadmesh.thread_id"], threadId);

      const turn = only(spans, client.traceId, "threadmesh.turn");
      assert.equal(turn.service, services.host);
      assert.equal(turn.parentSpanId, host.spanId);
      assert.equal(turn.attributes["threadmesh.thread_id"], threadId);
      assert.equal(turn.attributes["threadmesh.turn_id"], turnId);
      assert.equal(turn.attributes["threadmesh.turn.status"], "completed");

      const streams = spans.filter((s) => s.traceId === client.traceId && s.name === "threadmesh.model.stream");
      for (const s of streams) {
        assert.equal(s.parentSpanId, turn.spanId);
        assert.equal(s.attributes["threadmesh.thread_id"], threadId);
        assert.equal(s.attributes["threadmesh.turn_id"], turnId);
        assert.equal(s.attributes["threadmesh.outcome"], "completed");
        assert.ok(s.events.includes("first_token"), "time to first token is recorded");
        assert.equal(typeof s.attributes["threadmesh.model.time_to_first_token_ms"], "number");
      }
      assert.ok(streams.some((s) => s.attributes["gen_ai.usage.input_tokens"] === 120 && s.attributes["gen_ai.usage.output_tokens"] === 7));

      const tool = only(spans, client.traceId, "threadmesh.tool shell");
      assert.equal(tool.parentSpanId, turn.spanId);
      assert.equal(tool.attributes["threadmesh.item_id"], "call-traced");
      assert.equal(tool.attributes["threadmesh.turn_id"], turnId);
      assert.equal(tool.attributes["threadmesh.outcome"], "completed");

      const wait = only(spans, client.traceId, "threadmesh.approval.wait");
      assert.equal(wait.parentSpanId, tool.spanId, "the approval wait nests in its tool call");
      assert.equal(wait.attributes["threadmesh.item_id"], "call-traced");
      assert.equal(wait.attributes["threadmesh.outcome"], "accept");

      const inTrace = new Set(spans.filter((s) => s.traceId === client.traceId).map((s) => s.service));
      assert.deepEqual([...inTrace].sort(), [...new Set([services.router, services.host])].sort(), "one trace id covers both services");
    });

    test("a request without its own trace is parented by the upgrade's traceparent header", async () => {
      const upgrade = newTraceparent();
      const c = await TestClient.initialized(topo.url, { token: topo.token, headers: { traceparent: upgrade.traceparent } });
      clients.push(c);
      await c.call("thread/list", {});
      await otlp.waitFor((spans) => has(spans, upgrade.traceId, ["threadmesh.request thread/list", "threadmesh.host thread/list"]));
      const router = only(otlp.spans, upgrade.traceId, "threadmesh.request thread/list");
      const host = only(otlp.spans, upgrade.traceId, "threadmesh.host thread/list");
      assert.equal(router.parentSpanId, upgrade.spanId);
      assert.equal(host.parentSpanId, router.spanId);
      assert.equal(host.service, services.host);
    });
  });
}
