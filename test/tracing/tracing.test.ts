import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startModelSim, type ModelSim, type RecordedRequest } from "@threadmesh/model-sim";
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

/** OTLP span kinds. */
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** `messaging.system` of the bus between router and host. */
const BUS_SYSTEM: Record<TopologyKind, string> = { distributed: "nats", embedded: "threadmesh.in_process" };

/**
 * The router span `from` reaches the host span `to` over the bus: a PRODUCER `publish` span under
 * `from`, a CONSUMER `process` span on the host under that, and `to` under the `process` span.
 */
function assertCarriedOverBus(spans: readonly ReceivedSpan[], from: ReceivedSpan, to: ReceivedSpan, kind: TopologyKind): void {
  const processSpan = spans.find((s) => s.traceId === to.traceId && s.spanId === to.parentSpanId);
  assert.ok(processSpan, `${to.name} has its parent in the trace`);
  assert.equal(processSpan.kind, CONSUMER);
  assert.match(processSpan.name, /^process tm\.v1\.\{tenant\}\./);
  assert.equal(processSpan.service, to.service);
  assert.equal(processSpan.attributes["messaging.operation.type"], "process");
  assert.equal(processSpan.attributes["messaging.system"], BUS_SYSTEM[kind]);
  const publish = spans.find((s) => s.traceId === to.traceId && s.spanId === processSpan.parentSpanId);
  assert.ok(publish, "the process span's parent is in the trace");
  assert.equal(publish.kind, PRODUCER);
  assert.equal(publish.name, `publish ${publish.attributes["messaging.destination.template"]}`);
  assert.equal(publish.attributes["messaging.operation.type"], "send");
  assert.equal(publish.attributes["messaging.system"], BUS_SYSTEM[kind]);
  assert.equal(publish.attributes["messaging.destination.name"], processSpan.attributes["messaging.destination.name"]);
  assert.equal(typeof publish.attributes["messaging.message.body.size"], "number");
  assert.equal(publish.service, from.service);
  assert.equal(publish.parentSpanId, from.spanId, `${from.name} parents the publish span`);
}

/** The aggregated output of a completed command item, by its id. */
function completedCommand(frames: readonly Json[], itemId: string): string {
  const done = frames.find((f) => f.method === "item/completed" && f.params?.item?.id === itemId);
  assert.ok(done, `item ${itemId} completed`);
  return String(done.params.item.aggregatedOutput ?? "");
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

    test("one trace from the client's traceparent covers router, bus, host, store, model calls and a sandboxed command", async () => {
      const c = await TestClient.initialized(topo.url, { token: topo.token });
      clients.push(c);
      const threadId = (await c.call("thread/start", { approvalPolicy: "on-request", sandbox: "workspace-write" })).thread.id as string;
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-sandboxed", arguments: { command: ["bash", "-lc", "echo sandboxed"] } }] },
        { output: [{ type: "function_call", name: "shell", callId: "call-traced", arguments: { command: ["bash", "-lc", "echo traced"], sandbox_permissions: "require_escalated", justification: "trace it" } }] },
        { output: [{ type: "message", text: ["Traced", " answer."] }], usage: { inputTokens: 120, outputTokens: 7 } },
      ]);
      const modelCalls: string[] = [];
      const onRequest = (rec: RecordedRequest) => {
        if (rec.key === threadId) modelCalls.push(rec.traceparent ?? "");
      };
      sim.on("request", onRequest);
      const client = newTraceparent();
      const from = c.frames.length;
      const frame = { id: "traced-turn", method: "turn/start", params: { threadId, input: [{ type: "text", text: "trace me" }] }, trace: { traceparent: client.traceparent } };
      const reply = await c.sendRaw(JSON.stringify(frame), frame.id, frame.method);
      const turnId = reply.result.turn.id as string;
      const approval = await c.waitForMethod("item/commandExecution/requestApproval", { from });
      c.respond(approval.id, { decision: "accept" });
      const completed = await c.waitFor((f: Json) => f.method === "turn/completed" && f.params.turn.id === turnId, { from });
      sim.off("request", onRequest);
      assert.equal(completed.params.turn.status, "completed");

      const names = ["threadmesh.request turn/start", "threadmesh.host turn/start", "threadmesh.turn", "threadmesh.model.stream", "threadmesh.tool shell", "threadmesh.approval.wait"];
      const count = (spans: readonly ReceivedSpan[], name: string) => spans.filter((s) => s.traceId === client.traceId && s.name === name).length;
      // The turn span ends with the turn; all three model streams and both tool calls must have arrived too.
      await otlp.waitFor((spans) => has(spans, client.traceId, names) && count(spans, "threadmesh.model.stream") === 3 && count(spans, "threadmesh.tool shell") === 2);
      const spans = otlp.spans;

      const router = only(spans, client.traceId, "threadmesh.request turn/start");
      assert.equal(router.service, services.router);
      assert.equal(router.kind, SERVER);
      assert.equal(router.parentSpanId, client.spanId, "the client's traceparent parents the router span");
      assert.equal(router.attributes["threadmesh.tenant"], "default");
      assert.equal(router.attributes["rpc.method"], "turn/start");
      assert.equal(router.attributes["threadmesh.thread_id"], threadId);
      assert.equal(typeof router.attributes["threadmesh.connection_id"], "string");
      assert.equal(router.attributes["threadmesh.outcome"], "ok");

      const host = only(spans, client.traceId, "threadmesh.host turn/start");
      assert.equal(host.service, services.host);
      assert.equal(host.attributes["threadmesh.thread_id"], threadId);
      assertCarriedOverBus(spans, router, host, kind);

      const turn = only(spans, client.traceId, "threadmesh.turn");
      assert.equal(turn.service, services.host);
      assert.equal(turn.parentSpanId, host.spanId);
      assert.equal(turn.attributes["threadmesh.thread_id"], threadId);
      assert.equal(turn.attributes["threadmesh.turn_id"], turnId);
      assert.equal(turn.attributes["threadmesh.turn.status"], "completed");

      const streams = spans.filter((s) => s.traceId === client.traceId && s.name === "threadmesh.model.stream");
      for (const s of streams) {
        assert.equal(s.kind, CLIENT, "a model call is a client span");
        assert.equal(s.parentSpanId, turn.spanId);
        assert.equal(s.attributes["threadmesh.thread_id"], threadId);
        assert.equal(s.attributes["threadmesh.turn_id"], turnId);
        assert.equal(s.attributes["threadmesh.outcome"], "completed");
        assert.ok(s.events.includes("first_token"), "time to first token is recorded");
        assert.equal(typeof s.attributes["threadmesh.model.time_to_first_token_ms"], "number");
      }
      assert.ok(streams.some((s) => s.attributes["gen_ai.usage.input_tokens"] === 120 && s.attributes["gen_ai.usage.output_tokens"] === 7));
      // The provider received each call's span as its traceparent.
      assert.deepEqual(modelCalls.sort(), streams.map((s) => `00-${client.traceId}-${s.spanId}-01`).sort());

      const tools = spans.filter((s) => s.traceId === client.traceId && s.name === "threadmesh.tool shell");
      const sandboxed = tools.find((s) => s.attributes["threadmesh.item_id"] === "call-sandboxed");
      const tool = tools.find((s) => s.attributes["threadmesh.item_id"] === "call-traced");
      assert.ok(sandboxed && tool, "both commands have tool spans");
      for (const t of [sandboxed, tool]) {
        assert.equal(t.parentSpanId, turn.spanId);
        assert.equal(t.attributes["threadmesh.turn_id"], turnId);
        assert.equal(t.attributes["threadmesh.outcome"], "completed");
      }
      const output = completedCommand(c.frames.slice(from), "call-sandboxed");
      assert.match(output, /sandboxed/, "the sandboxed command ran");

      const wait = only(spans, client.traceId, "threadmesh.approval.wait");
      assert.equal(wait.parentSpanId, tool.spanId, "the approval wait nests in its tool call");
      assert.equal(wait.attributes["threadmesh.item_id"], "call-traced");
      assert.equal(wait.attributes["threadmesh.outcome"], "accept");

      if (kind === "distributed") {
        // The host's PostgreSQL queries for the turn are spans of the same trace, under its spans.
        const queriesOf = (list: readonly ReceivedSpan[]) => list.filter((s) => s.traceId === client.traceId && s.attributes["db.system.name"] === "postgresql");
        // Query spans and the pool spans they nest in may leave in different batches: wait for both.
        await otlp.waitFor((list) => {
          const ids = new Set(list.filter((s) => s.traceId === client.traceId).map((s) => s.spanId));
          const queries = queriesOf(list);
          return queries.length > 0 && queries.every((q) => ids.has(q.parentSpanId));
        });
        const queries = queriesOf(otlp.spans);
        const hostSpans = new Set(otlp.spans.filter((s) => s.traceId === client.traceId && s.service === services.host).map((s) => s.spanId));
        for (const q of queries) {
          assert.equal(q.service, services.host);
          assert.equal(q.kind, CLIENT);
          assert.ok(hostSpans.has(q.parentSpanId), `query span ${q.name} nests under a host span`);
        }
      }

      const inTrace = new Set(spans.filter((s) => s.traceId === client.traceId).map((s) => s.service));
      assert.deepEqual([...inTrace].sort(), [...new Set([services.router, services.host])].sort(), "one trace id covers both services");

      // The client's answer to the approval is a router span, and the host's handling of it nests under it.
      const answerOf = (list: readonly ReceivedSpan[]) => list.find((s) => s.name === "threadmesh.answer item/commandExecution/requestApproval" && s.attributes["threadmesh.thread_id"] === threadId);
      const respondOf = (list: readonly ReceivedSpan[], traceId: string) => list.find((s) => s.traceId === traceId && s.name === "threadmesh.host mesh/serverRequest/respond");
      await otlp.waitFor((list) => {
        const a = answerOf(list);
        return a !== undefined && respondOf(list, a.traceId) !== undefined;
      });
      const answer = answerOf(otlp.spans)!;
      assert.equal(answer.service, services.router);
      assert.equal(answer.kind, SERVER);
      assertCarriedOverBus(otlp.spans, answer, respondOf(otlp.spans, answer.traceId)!, kind);
    });

    test("a connection closing is a router span, and the host's handling nests under it", async () => {
      const upgrade = newTraceparent();
      const c = await TestClient.initialized(topo.url, { token: topo.token, headers: { traceparent: upgrade.traceparent } });
      const threadId = (await c.call("thread/start", {})).thread.id as string;
      await c.close();
      const name = "threadmesh.host mesh/connection/closed";
      await otlp.waitFor((spans) => has(spans, upgrade.traceId, ["threadmesh.connection.closed", name]));
      const closed = only(otlp.spans, upgrade.traceId, "threadmesh.connection.closed");
      assert.equal(closed.service, services.router);
      assert.equal(closed.parentSpanId, upgrade.spanId, "the upgrade's traceparent parents it");
      assert.equal(closed.attributes["threadmesh.thread_id"], threadId);
      assertCarriedOverBus(otlp.spans, closed, only(otlp.spans, upgrade.traceId, name), kind);
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
      assert.equal(host.service, services.host);
      assertCarriedOverBus(otlp.spans, router, host, kind);
    });
  });
}
