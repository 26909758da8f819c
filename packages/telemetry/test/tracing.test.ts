import { test } from "node:test";
import assert from "node:assert/strict";
import { propagation, trace } from "@opentelemetry/api";
import pg from "pg";
import { startTracing, tracingEnabled } from "../src/index.ts";

/** shimmer marks what an instrumentation wrapped. */
const wrapped = (fn: unknown) => typeof fn === "function" && "__wrapped" in fn;

const ENDPOINT = "http://127.0.0.1:4318";

test("tracing is off unless an OTLP endpoint is configured", () => {
  assert.equal(tracingEnabled({}), false);
  assert.equal(tracingEnabled({ OTEL_TRACES_EXPORTER: "otlp" }), false);
  assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }), true);
  assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` }), true);
  assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: " " }), false);
});

test("OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true turn tracing off", () => {
  assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: "none" }), false);
  assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: "true" }), false);
  assert.equal(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: "false" }), true);
});

test("with no OTEL variables, startTracing registers nothing: spans are not recorded and no context propagates", async () => {
  for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) delete process.env[name];
  const stop = await startTracing({ service: "router", serviceInstanceId: "router-test" });
  const span = trace.getTracer("test").startSpan("probe");
  assert.equal(span.isRecording(), false);
  span.end();
  assert.deepEqual(propagation.fields(), [], "no propagator registered");
  assert.equal(wrapped(pg.Client.prototype.query), false, "the pg instrumentation is not registered");
  await stop();
});

test("with an OTLP endpoint, startTracing records spans and propagates W3C trace context", async () => {
  // Runs after the test above: registering the SDK is global and one-way for this process.
  // Nothing is exported: the span below never ends.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = "http://127.0.0.1:9";
  const stop = await startTracing({ service: "router", serviceInstanceId: "router-test" });
  try {
    const span = trace.getTracer("test").startSpan("probe");
    assert.equal(span.isRecording(), true);
    assert.deepEqual(propagation.fields(), ["traceparent", "tracestate"]);
    // pg was imported before tracing started, as the store imports it; its queries are traced all the same.
    assert.equal(wrapped(pg.Client.prototype.query), true, "pg queries are instrumented");
  } finally {
    await stop();
  }
});
