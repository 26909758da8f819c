import { performance } from "node:perf_hooks";
import type { HostMetrics } from "../host-metrics.ts";
import { ModelAbortedError, type ModelClient, type ModelRequest, type ModelResponse, type ModelStreamSink } from "./model-client.ts";

/** Sink calls that carry model output: the first one marks time to first token. */
const CONTENT = new Set(["messageDelta", "messageDone", "reasoningSummaryDelta", "reasoningTextDelta", "reasoningDone", "functionCall"]);

/**
 * A {@link ModelClient} that measures every request of the one it wraps: time to first content,
 * duration by outcome, and token usage. Provider-neutral, so every model client is measured the same way.
 */
export class MeteredModel implements ModelClient {
  readonly #inner: ModelClient;
  readonly #m: HostMetrics;

  readonly #onFirstToken: ((ms: number) => void) | undefined;

  /** `onFirstToken`: told each request's time to first content, in ms. */
  constructor(inner: ModelClient, metrics: HostMetrics, onFirstToken?: (ms: number) => void) {
    this.#inner = inner;
    this.#m = metrics;
    this.#onFirstToken = onFirstToken;
  }

  async stream(request: ModelRequest, sink: ModelStreamSink, signal: AbortSignal): Promise<ModelResponse> {
    const t0 = performance.now();
    let first = false;
    const onContent = () => {
      if (first) return;
      first = true;
      const ms = performance.now() - t0;
      this.#m.modelTtft.observe(ms / 1000);
      this.#onFirstToken?.(ms);
    };
    let res: ModelResponse;
    try {
      res = await this.#inner.stream(request, contentWatcher(sink, onContent), signal);
    } catch (err) {
      const outcome = err instanceof ModelAbortedError || signal.aborted ? "aborted" : "error";
      this.#m.modelStream.observe({ outcome }, (performance.now() - t0) / 1000);
      throw err;
    }
    this.#m.modelStream.observe({ outcome: "ok" }, (performance.now() - t0) / 1000);
    const u = res.usage;
    if (u) {
      const tokens = this.#m.modelTokens;
      tokens.inc({ kind: "input" }, u.inputTokens);
      tokens.inc({ kind: "cached_input" }, u.cachedInputTokens);
      tokens.inc({ kind: "output" }, u.outputTokens);
      tokens.inc({ kind: "reasoning_output" }, u.reasoningOutputTokens);
    }
    return res;
  }
}

/**
 * A sink forwarding every method the given one has (optional ones included, so methods added to the
 * sink interface later pass through untouched), calling `onContent` before each content call.
 */
function contentWatcher(sink: ModelStreamSink, onContent: () => void): ModelStreamSink {
  const out: Record<string, unknown> = {};
  for (const name of methodNames(sink)) {
    const fn = (sink as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    out[name] = CONTENT.has(name)
      ? (...args: unknown[]) => {
          onContent();
          return fn.apply(sink, args);
        }
      : fn.bind(sink);
  }
  return out as unknown as ModelStreamSink;
}

function methodNames(obj: object): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      // Descriptors, not property reads: a getter must not run here.
      if (name !== "constructor" && typeof Object.getOwnPropertyDescriptor(o, name)?.value === "function") names.add(name);
    }
  }
  return names;
}
