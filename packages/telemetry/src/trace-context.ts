import { ROOT_CONTEXT, SpanStatusCode, propagation, trace, type Context, type Span } from "@opentelemetry/api";

/** W3C trace context as JSON-RPC requests and command envelopes carry it (`trace` field). */
export interface TraceCarrier {
  traceparent?: string | null;
  tracestate?: string | null;
}

/**
 * The remote parent named by the first carrier whose `traceparent` is valid; the root context when none
 * is (or when no propagator is registered, i.e. tracing is off). Carriers are W3C fields or bus headers.
 */
export function extractTraceContext(...carriers: ReadonlyArray<TraceCarrier | Readonly<Record<string, string>> | null | undefined>): Context {
  for (const carrier of carriers) {
    if (carrier === null || carrier === undefined || typeof carrier.traceparent !== "string") continue;
    const fields: Record<string, string> = { traceparent: carrier.traceparent };
    if (typeof carrier.tracestate === "string") fields.tracestate = carrier.tracestate;
    const ctx = propagation.extract(ROOT_CONTEXT, fields);
    if (trace.getSpanContext(ctx) !== undefined) return ctx;
  }
  return ROOT_CONTEXT;
}

/** `traceparent` (and `tracestate`) headers for a message sent within `ctx`; undefined when there is nothing to send. */
export function traceHeaders(ctx: Context): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers.traceparent === undefined ? undefined : headers;
}

/** Marks a span failed with the error's message and records it as an exception event. */
export function recordSpanError(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const message = err instanceof Error ? err.message : String(err);
  span.recordException(err instanceof Error ? err : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Span attribute names shared by the router and the session host. */
export const SpanAttr = {
  Tenant: "threadmesh.tenant",
  ThreadId: "threadmesh.thread_id",
  TurnId: "threadmesh.turn_id",
  ItemId: "threadmesh.item_id",
  ConnectionId: "threadmesh.connection_id",
  /** `ok`, `error` or `timeout` for requests; how a turn, model stream or tool call ended otherwise. */
  Outcome: "threadmesh.outcome",
  Method: "rpc.method",
  RpcSystem: "rpc.system",
} as const;
