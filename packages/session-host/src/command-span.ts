import { SpannedMessage, TracedMessage, type BusMessage } from "@threadmesh/mesh";
import type { CommandEnvelope, RpcErrorShape } from "@threadmesh/protocol";
import { SpanAttr, SpanKind, SpanStatusCode, context, extractTraceContext, trace, type Tracer } from "@threadmesh/telemetry";

/**
 * A command as the host received it, wrapped with the span that covers it from receipt to reply
 * (`threadmesh.host <method>`): the mailbox wait, the handler and the reply. Its parent is the bus's
 * `process` span of the delivery (traced buses), else the router's request span named by the message's
 * W3C headers, else the envelope's `trace` field (a sender that does not trace). Wrapping the message,
 * rather than each handler, covers every path that answers it.
 */
export class TracedCommand extends SpannedMessage {
  constructor(msg: BusMessage, env: CommandEnvelope, tenant: string, tracer: Tracer) {
    const parent = msg instanceof TracedMessage ? msg.context : extractTraceContext(msg.headers, env.trace);
    const span = tracer.startSpan(`threadmesh.host ${env.method}`, { kind: SpanKind.SERVER }, parent);
    super(msg, span, trace.setSpan(parent, span));
    if (span.isRecording()) {
      span.setAttributes({ [SpanAttr.RpcSystem]: "jsonrpc", [SpanAttr.Method]: env.method, [SpanAttr.Tenant]: tenant });
      const threadId = (env.params as { threadId?: unknown } | null)?.threadId;
      if (typeof threadId === "string") span.setAttribute(SpanAttr.ThreadId, threadId);
      if (typeof env.origin?.connId === "string") span.setAttribute(SpanAttr.ConnectionId, env.origin.connId);
    }
  }

  /** The reply is an error: the span says so. */
  failed(error: RpcErrorShape): void {
    if (!this.span.isRecording()) return;
    this.span.setAttribute("rpc.jsonrpc.error_code", error.code);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
}

/** Runs `fn` in the command's trace context (untraced messages: the current one). */
export function inCommandContext<T>(msg: BusMessage, fn: () => T): T {
  return msg instanceof TracedCommand ? context.with(msg.context, fn) : fn();
}
