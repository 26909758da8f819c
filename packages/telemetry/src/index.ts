export { createTelemetry, noopTelemetry } from "./telemetry.ts";
export { Metrics } from "./metrics.ts";
export { createLogger, silentLogger } from "./logger.ts";
export { startTracing, tracingEnabled } from "./tracing.ts";
export { SpanAttr, extractTraceContext, recordSpanError, traceHeaders } from "./trace-context.ts";
export { MessagingAttr, startProcessSpan, startPublishSpan } from "./messaging-span.ts";
// The OpenTelemetry API, so that services trace without depending on it themselves.
export { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";

export type { Attributes, Context, Span, Tracer } from "@opentelemetry/api";
export type { StopTracing, TracingOptions } from "./tracing.ts";
export type { TraceCarrier } from "./trace-context.ts";
export type { MessageInfo } from "./messaging-span.ts";
export { startMetricsServer } from "./metrics-server.ts";
export { hostMeshMetrics, meshMetrics, routerMeshMetrics } from "./mesh-metrics.ts";

export type { Telemetry, TelemetryOptions } from "./telemetry.ts";
export type { Logger } from "./logger.ts";
export type { MetricsServer, MetricsServerOptions, MetricsReadiness } from "./metrics-server.ts";
export type { HostMeshMetrics, RouterMeshMetrics } from "./mesh-metrics.ts";
