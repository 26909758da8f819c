import { SpanAttr, SpanKind, SpanStatusCode, context, recordSpanError, trace, type Attributes, type Context, type Span, type Tracer } from "@threadmesh/telemetry";

/** Tenant, thread and turn ids of a turn, as every span of the turn carries them. */
export interface TurnIds {
  tenant: string;
  threadId: string;
  turnId: string;
}

/**
 * The spans of one turn: one long `threadmesh.turn` span, child of the context it starts in (the
 * `turn/start` command's), and under it a span per model stream and per tool call. Every span carries
 * the turn's ids. A turn runs one tool call at a time, so spans started while one runs (approval waits)
 * nest under that call.
 */
export class TurnTrace {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;
  readonly #ids: Attributes;
  /** Context of the tool call running now; null between calls. */
  #tool: Context | null = null;
  #ended = false;

  constructor(tracer: Tracer, ids: TurnIds, attributes: Attributes = {}) {
    this.#tracer = tracer;
    this.#ids = { [SpanAttr.Tenant]: ids.tenant, [SpanAttr.ThreadId]: ids.threadId, [SpanAttr.TurnId]: ids.turnId };
    const parent = context.active();
    this.#span = tracer.startSpan("threadmesh.turn", { attributes: { ...this.#ids, ...attributes } }, parent);
    this.#context = trace.setSpan(parent, this.#span);
  }

  /** Starts a span of the turn (under the running tool call, if any); the caller ends it. */
  start(name: string, attributes: Attributes = {}, kind: SpanKind = SpanKind.INTERNAL): Span {
    return this.#tracer.startSpan(name, { kind, attributes: { ...this.#ids, ...attributes } }, this.#tool ?? this.#context);
  }

  /** The context a span of the turn runs in: what outgoing requests made under it name as their parent. */
  contextOf(span: Span): Context {
    return trace.setSpan(this.#tool ?? this.#context, span);
  }

  /** Runs one tool call under its own span; a throw marks the span failed and propagates. */
  async tool<T>(name: string, attributes: Attributes, run: (span: Span) => Promise<T> | T): Promise<T> {
    const span = this.start(name, attributes);
    const outer = this.#tool;
    this.#tool = trace.setSpan(this.#context, span);
    try {
      return await run(span);
    } catch (err) {
      recordSpanError(span, err);
      throw err;
    } finally {
      this.#tool = outer;
      span.end();
    }
  }

  /** Ends the turn's span with the turn's final status; `error` marks it failed. Idempotent. */
  end(status: string, error?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.setAttribute("threadmesh.turn.status", status);
    if (error !== undefined) this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    this.#span.end();
  }
}
