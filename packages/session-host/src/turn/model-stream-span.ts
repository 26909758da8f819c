import { performance } from "node:perf_hooks";
import { SpanAttr, SpanKind, SpanStatusCode, type Context, type Span } from "@threadmesh/telemetry";
import type { ModelRequest, ModelStreamSink } from "../model/model-client.ts";
import type { RoundOutcome } from "./model-round.ts";
import type { TurnTrace } from "./turn-trace.ts";

/** Sink calls that carry model output: the first one marks the time to first token. */
const OUTPUT = new Set<PropertyKey>(["messageDelta", "messageDone", "reasoningSummaryDelta", "reasoningTextDelta", "reasoningDone", "functionCall"]);

/**
 * The CLIENT span of one model request of a turn (`threadmesh.model.stream`), from sending it to the end
 * of its stream: the time to first token (a `first_token` event and an attribute), the token usage and
 * how the request ended. The request is sent in {@link context}, so its `traceparent` header names this span.
 */
export class ModelStreamSpan {
  readonly #span: Span;
  /** The span's context: the model request is sent in it. */
  readonly context: Context;
  readonly #startedAt = performance.now();
  #firstOutput = false;

  constructor(spans: TurnTrace, request: ModelRequest) {
    this.#span = spans.start("threadmesh.model.stream", { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": request.model }, SpanKind.CLIENT);
    this.context = spans.contextOf(this.#span);
  }

  /** `sink`, watched for its first output; `sink` itself when the span is not recorded (tracing off). */
  watch<S extends ModelStreamSink>(sink: S): S {
    if (!this.#span.isRecording()) return sink;
    const wrapped = new Map<PropertyKey, unknown>();
    // A proxy forwards every method, optional ones and ones added to the sink interface later included.
    return new Proxy(sink, {
      get: (target, name) => {
        const cached = wrapped.get(name);
        if (cached !== undefined) return cached;
        const value: unknown = Reflect.get(target, name, target);
        if (typeof value !== "function") return value;
        const fn = OUTPUT.has(name)
          ? (...args: unknown[]) => {
              this.#markFirstOutput();
              return value.apply(target, args);
            }
          : value.bind(target);
        wrapped.set(name, fn);
        return fn;
      },
    });
  }

  /** Ends the span with the request's outcome and, when it completed, its token usage. */
  end(outcome: RoundOutcome): void {
    const span = this.#span;
    span.setAttribute(SpanAttr.Outcome, outcome.kind);
    if (outcome.kind === "completed" && outcome.usage) {
      const u = outcome.usage;
      span.setAttributes({
        "gen_ai.usage.input_tokens": u.inputTokens,
        "gen_ai.usage.output_tokens": u.outputTokens,
        "threadmesh.usage.cached_input_tokens": u.cachedInputTokens,
        "threadmesh.usage.reasoning_output_tokens": u.reasoningOutputTokens,
      });
    } else if (outcome.kind === "failed") {
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
    }
    span.end();
  }

  #markFirstOutput(): void {
    if (this.#firstOutput) return;
    this.#firstOutput = true;
    this.#span.addEvent("first_token");
    this.#span.setAttribute("threadmesh.model.time_to_first_token_ms", Math.round(performance.now() - this.#startedAt));
  }
}
