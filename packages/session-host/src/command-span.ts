import { TracedMessage, type BusHeaders, type BusMessage } from "@threadmesh/mesh";
import type { CommandEnvelope, RpcErrorShape } from "@threadmesh/protocol";
import { SpanAttr, SpanKind, SpanStatusCode, context, extractTraceContext, trace, type Context, type Span, type Tracer } from "@threadmesh/telemetry";

/**
 * A command as the host received it, wrapped with the span that covers it from receipt to reply
 * (`threadmesh.host <method>`): the mailbox wait, the handler and the reply. Its parent is the bus's
 * `process` span of the delivery (traced buses), else the router's request span named by the message's
 * W3C headers, else the envelope's `trace` field (a sender that does not trace). Wrapping the message,
 * rather than each handler, covers every path that answers it.
 */
export class TracedCommand implements BusMessage {
  readonly #msg: BusMessage;
  readonly #span: Span;
  /** What the command's handler runs in: spans it starts (a turn's) are the command span's children. */
  readonly context: Context;
  #ended = false;

  constructor(msg: BusMessage, env: CommandEnvelope, tenant: string, tracer: Tracer) {
    this.#msg = msg;
    const parent = msg instanceof TracedMessage ? msg.context : extractTraceContext(msg.headers, env.trace);
    this.#span = tracer.startSpan(`threadmesh.host ${env.method}`, { kind: SpanKind.SERVER }, parent);
    if (this.#span.isRecording()) {
      this.#span.setAttributes({ [SpanAttr.RpcSystem]: "jsonrpc", [SpanAttr.Method]: env.method, [SpanAttr.Tenant]: tenant });
      const threadId = (env.params as { threadId?: unknown } | null)?.threadId;
      if (typeof threadId === "string") this.#span.setAttribute(SpanAttr.ThreadId, threadId);
      if (typeof env.origin?.connId === "string") this.#span.setAttribute(SpanAttr.ConnectionId, env.origin.connId);
    }
    this.context = trace.setSpan(parent, this.#span);
  }

  get subject(): string {
    return this.#msg.subject;
  }
  get data(): Uint8Array {
    return this.#msg.data;
  }
  get headers(): BusHeaders | undefined {
    return this.#msg.headers;
  }
  get expectsReply(): boolean {
    return this.#msg.expectsReply;
  }

  /** Sends the reply and ends the span. */
  respond(data: Uint8Array, headers?: BusHeaders): void {
    try {
      this.#msg.respond(data, headers);
    } finally {
      if (!this.#ended) {
        this.#ended = true;
        this.#span.end();
      }
    }
  }

  /** The reply is an error: the span says so. */
  failed(error: RpcErrorShape): void {
    if (!this.#span.isRecording()) return;
    this.#span.setAttribute("rpc.jsonrpc.error_code", error.code);
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
}

/** Runs `fn` in the command's trace context (untraced messages: the current one). */
export function inCommandContext<T>(msg: BusMessage, fn: () => T): T {
  return msg instanceof TracedCommand ? context.with(msg.context, fn) : fn();
}
