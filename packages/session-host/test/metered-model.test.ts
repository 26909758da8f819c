import { test } from "node:test";
import assert from "node:assert/strict";
import { Metrics } from "@threadmesh/telemetry";
import { hostMetrics } from "../src/host-metrics.ts";
import { MeteredModel } from "../src/model/metered-model.ts";
import { ModelAbortedError, type ModelClient, type ModelRequest, type ModelStreamSink } from "../src/model/model-client.ts";

/** A sink with private state, as the turn's sink has: methods must run with the sink itself as `this`. */
class RecordingSink {
  readonly #calls: string[] = [];
  get calls(): string[] {
    return this.#calls;
  }
  messageStarted(id: string) { this.#calls.push(`started ${id}`); }
  messageDelta(_id: string, d: string) { this.#calls.push(`delta ${d}`); }
  messageDone(_id: string, t: string) { this.#calls.push(`done ${t}`); }
  reasoningStarted() {}
  reasoningSummaryPartAdded() {}
  reasoningSummaryDelta() {}
  reasoningTextDelta() {}
  reasoningDone() {}
  functionCall() {}
  chunkStart() { this.#calls.push("chunkStart"); }
  chunkEnd() { this.#calls.push("chunkEnd"); }
}

const request = {} as ModelRequest;

test("a metered model forwards every sink call, optional ones included, and records ttft once", async () => {
  const inner: ModelClient = {
    async stream(_r, sink) {
      sink.chunkStart?.();
      sink.messageStarted("m");
      sink.messageDelta("m", "a");
      sink.messageDelta("m", "b");
      sink.messageDone("m", "ab");
      sink.chunkEnd?.();
      return { usage: { inputTokens: 10, cachedInputTokens: 4, outputTokens: 2, reasoningOutputTokens: 1, totalTokens: 12 } };
    },
  };
  const metrics = new Metrics();
  const model = new MeteredModel(inner, hostMetrics(metrics));
  const sink = new RecordingSink();
  await model.stream(request, sink as unknown as ModelStreamSink, new AbortController().signal);
  assert.deepEqual(sink.calls, ["chunkStart", "started m", "delta a", "delta b", "done ab", "chunkEnd"]);
  const body = (await metrics.render()).body;
  assert.match(body, /^tm_model_ttft_seconds_count 1$/m);
  assert.match(body, /^tm_model_stream_seconds_count\{outcome="ok"\} 1$/m);
  assert.match(body, /^tm_model_tokens_total\{kind="cached_input"\} 4$/m);
});

test("an aborted request is counted as aborted, without a first token", async () => {
  const inner: ModelClient = { stream: async (_r, _s, signal) => Promise.reject(new ModelAbortedError(signal.reason)) };
  const metrics = new Metrics();
  const ac = new AbortController();
  ac.abort("interrupt");
  await assert.rejects(new MeteredModel(inner, hostMetrics(metrics)).stream(request, new RecordingSink() as unknown as ModelStreamSink, ac.signal), ModelAbortedError);
  const body = (await metrics.render()).body;
  assert.match(body, /^tm_model_stream_seconds_count\{outcome="aborted"\} 1$/m);
  assert.match(body, /^tm_model_ttft_seconds_count 0$/m);
});
