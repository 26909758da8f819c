import { subjectTemplate } from "@threadmesh/protocol";
import {
  context,
  extractTraceContext,
  recordSpanError,
  startProcessSpan,
  startPublishSpan,
  trace,
  traceHeaders,
  type Context,
  type Span,
  type Tracer,
} from "@threadmesh/telemetry";
import type { Bus, BusHeaders, BusMessage, MessageHandler, RequestOptions, SubscribeOptions, Subscription } from "./bus.ts";

/**
 * A bus whose requests are traced, for processes that export traces (wrap only then: untraced processes
 * keep the bare bus). A request sent within a span gets a PRODUCER span (`publish <subject template>`)
 * whose context travels in the message's W3C headers; a delivered request that carries such headers is
 * handled under a CONSUMER span (`process <subject template>`) that ends with its reply. Fire-and-forget
 * publishes (thread events, one per streamed delta) and deliveries without trace headers pass through
 * untouched, so the streaming path does no span work and background traffic starts no traces.
 */
export function tracedBus(bus: Bus, tracer: Tracer, system: string): Bus {
  return new TracedBus(bus, tracer, system);
}

class TracedBus implements Bus {
  readonly #bus: Bus;
  readonly #tracer: Tracer;
  readonly #system: string;

  constructor(bus: Bus, tracer: Tracer, system: string) {
    this.#bus = bus;
    this.#tracer = tracer;
    this.#system = system;
    if (bus.onReconnect !== undefined) this.onReconnect = (listener) => bus.onReconnect!(listener);
  }

  onReconnect?: (listener: () => void) => void;

  get connected(): boolean {
    return this.#bus.connected;
  }

  async request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<BusMessage> {
    const parent = context.active();
    if (trace.getSpan(parent) === undefined) return this.#bus.request(subject, data, opts);
    const span = startPublishSpan(this.#tracer, parent, { system: this.#system, subject, template: subjectTemplate(subject), bodySize: data.length });
    const headers = { ...opts.headers, ...traceHeaders(trace.setSpan(parent, span)) };
    try {
      return await this.#bus.request(subject, data, { ...opts, headers });
    } catch (err) {
      recordSpanError(span, err);
      const kind = (err as { kind?: unknown } | null)?.kind;
      if (typeof kind === "string") span.setAttribute("error.type", kind);
      throw err;
    } finally {
      span.end();
    }
  }

  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void {
    this.#bus.publish(subject, data, headers);
  }

  subscribe(subject: string, handler: MessageHandler, opts?: SubscribeOptions): Subscription {
    return this.#bus.subscribe(
      subject,
      (msg) => {
        if (!msg.expectsReply || msg.headers?.traceparent === undefined) return handler(msg);
        const parent = extractTraceContext(msg.headers);
        const span = startProcessSpan(this.#tracer, parent, { system: this.#system, subject: msg.subject, template: subjectTemplate(msg.subject), bodySize: msg.data.length });
        const traced = new TracedMessage(msg, span, trace.setSpan(parent, span));
        context.with(traced.context, () => handler(traced));
      },
      opts,
    );
  }

  flush(): Promise<void> {
    return this.#bus.flush();
  }

  close(): Promise<void> {
    return this.#bus.close();
  }
}

/** A delivered request handled under a span of its own; the reply ends the span. */
export class SpannedMessage implements BusMessage {
  readonly #msg: BusMessage;
  protected readonly span: Span;
  /** The span's context: what the handler's own spans nest under. */
  readonly context: Context;
  #ended = false;

  constructor(msg: BusMessage, span: Span, ctx: Context) {
    this.#msg = msg;
    this.span = span;
    this.context = ctx;
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
        this.span.end();
      }
    }
  }
}

/** A delivered request handled under its `process` span. */
export class TracedMessage extends SpannedMessage {}
