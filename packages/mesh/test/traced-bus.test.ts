import { test } from "node:test";
import assert from "node:assert/strict";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { InProcessBus, TracedMessage, tracedBus, type BusMessage } from "@threadmesh/mesh";
import { SpanKind } from "@threadmesh/telemetry";
import { bytes } from "./received.ts";

// What the tracing SDK registers in a traced process: W3C propagation and async context.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer("test");

function setup() {
  exporter.reset();
  const inner = new InProcessBus();
  const bus = tracedBus(inner, tracer, "nats");
  const received: BusMessage[] = [];
  bus.subscribe("tm.v1.*.cmd.*", (msg) => {
    received.push(msg);
    // The handler runs in the delivery's process span: spans it starts nest under it.
    tracer.startSpan("handler").end();
    msg.respond(bytes("ok"));
  });
  return { bus, received, close: () => inner.close() };
}

test("a request sent within a span is a publish span, and its delivery is handled under a process span", async () => {
  const { bus, received, close } = setup();
  const parent = tracer.startSpan("caller");
  const reply = await context.with(trace.setSpan(context.active(), parent), () => bus.request("tm.v1.acme.cmd.thread-1", bytes("hello"), { timeoutMs: 1_000, headers: { other: "kept" } }));
  parent.end();
  assert.equal(new TextDecoder().decode(reply.data), "ok");
  assert.equal(received.length, 1);
  assert.ok(received[0] instanceof TracedMessage);
  assert.equal(received[0].headers?.other, "kept", "the caller's headers travel with the trace headers");

  const spans = exporter.getFinishedSpans();
  const publish = spans.find((s) => s.name === "publish tm.v1.{tenant}.cmd.{thread}");
  const process = spans.find((s) => s.name === "process tm.v1.{tenant}.cmd.{thread}");
  const handler = spans.find((s) => s.name === "handler");
  assert.ok(publish && process && handler, `spans: ${spans.map((s) => s.name).join(", ")}`);
  assert.equal(publish.kind, SpanKind.PRODUCER);
  assert.equal(publish.parentSpanContext?.spanId, parent.spanContext().spanId);
  assert.deepEqual(publish.attributes, {
    "messaging.system": "nats",
    "messaging.operation.type": "send",
    "messaging.operation.name": "publish",
    "messaging.destination.name": "tm.v1.acme.cmd.thread-1",
    "messaging.destination.template": "tm.v1.{tenant}.cmd.{thread}",
    "messaging.message.body.size": 5,
  });
  assert.equal(process.kind, SpanKind.CONSUMER);
  assert.equal(process.parentSpanContext?.spanId, publish.spanContext().spanId);
  assert.equal(process.attributes["messaging.operation.type"], "process");
  assert.equal(handler.parentSpanContext?.spanId, process.spanContext().spanId);
  await close();
});

test("a failed request marks its publish span failed with the bus error's kind", async () => {
  const { bus, close } = setup();
  const parent = tracer.startSpan("caller");
  await assert.rejects(context.with(trace.setSpan(context.active(), parent), () => bus.request("tm.v1.acme.place", bytes("x"), { timeoutMs: 1_000 })));
  parent.end();
  const publish = exporter.getFinishedSpans().find((s) => s.name === "publish tm.v1.{tenant}.place");
  assert.ok(publish);
  assert.equal(publish.status.code, 2);
  assert.equal(publish.attributes["error.type"], "noResponders");
  await close();
});

test("requests outside a span and fire-and-forget publishes start no spans", async () => {
  const { bus, received, close } = setup();
  await bus.request("tm.v1.acme.cmd.thread-1", bytes("untraced"), { timeoutMs: 1_000 });
  const events: BusMessage[] = [];
  bus.subscribe("tm.v1.*.ev.>", (msg) => events.push(msg));
  const parent = tracer.startSpan("caller");
  context.with(trace.setSpan(context.active(), parent), () => bus.publish("tm.v1.acme.ev.thread-1.t", bytes("delta")));
  parent.end();
  await bus.flush();
  assert.equal(events.length, 1);
  assert.equal(received.length, 1);
  assert.ok(!(received[0] instanceof TracedMessage), "an untraced request is delivered as it came");
  assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name).sort(), ["caller", "handler"]);
  await close();
});
