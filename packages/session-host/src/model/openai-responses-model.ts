import OpenAI, { APIError } from "openai";
import type { ResponseCreateParamsStreaming, ResponseStreamEvent } from "openai/resources/responses/responses";
import { context, traceHeaders } from "@threadmesh/telemetry";
import type { ModelConfig } from "../config.ts";
import { requestBodyJson } from "./item-json.ts";
import { createPooledFetch, nodeBodyOf } from "./pooled-fetch.ts";
import { readSseData } from "./sse-reader.ts";
import {
  ModelAbortedError,
  ModelError,
  STREAM_DISCONNECTED_INFO,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamSink,
  type ModelUsage,
} from "./model-client.ts";

/** Longest gap between two idle checks, in ms; the watchdog is coarse so the delta path only stores a timestamp. */
const MAX_IDLE_CHECK_INTERVAL_MS = 1_000;

const IDLE = Symbol("model stream idle");

/**
 * {@link ModelClient} over the OpenAI Responses API (`POST /responses`, SSE) with the official SDK.
 * The SDK retries connection errors, 429 and 5xx before a stream starts (`maxRetries`); once events
 * flow nothing is retried. A stream that stays silent for `idleTimeoutMs` (headers included) fails.
 */
export class OpenAIResponsesModel implements ModelClient {
  readonly #client: OpenAI;
  readonly #idleTimeoutMs: number;

  constructor(config: Pick<ModelConfig, "baseURL" | "apiKey" | "maxRetries" | "idleTimeoutMs">) {
    this.#client = new OpenAI({
      baseURL: config.baseURL,
      apiKey: config.apiKey || "unused",
      maxRetries: config.maxRetries,
      // The idle watchdog bounds every wait; the SDK's own timeout only backs it up.
      timeout: Math.max(config.idleTimeoutMs * 2, 60_000),
      fetch: createPooledFetch().fetch,
    });
    this.#idleTimeoutMs = config.idleTimeoutMs;
  }

  async stream(request: ModelRequest, sink: ModelStreamSink, signal: AbortSignal): Promise<ModelResponse> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    if (signal.aborted) throw new ModelAbortedError(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let lastEventAt = Date.now();
    const idleMs = this.#idleTimeoutMs;
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastEventAt >= idleMs) controller.abort(IDLE);
      },
      Math.max(10, Math.min(MAX_IDLE_CHECK_INTERVAL_MS, Math.floor(idleMs / 4))),
    );
    watchdog.unref();
    let started = false;
    try {
      // The SDK sends the request (auth, retries before the stream, status errors); the body is read
      // here, as the Node stream under it when the pooled fetch made it (no promise per network chunk),
      // because the SDK's per-event async iteration dominates the delta path.
      // W3C trace context of the caller's span (the model request's), when tracing is on.
      const trace = traceHeaders(context.active());
      // `responses.create` with the body serialised here: history items and tools are serialised once
      // across rounds (`itemJson`) instead of the whole request on every round.
      const headers = { ...trace, "content-type": "application/json" };
      const body = requestBodyJson(toParams(request) as unknown as Record<string, unknown>);
      const response = await this.#client.post("/responses", { body, headers, stream: true, signal: controller.signal }).asResponse();
      started = true;
      if (!response.body) throw new ModelError("stream disconnected before completion: empty response body", STREAM_DISCONNECTED_INFO, true);
      let usage: ModelUsage | null | undefined;
      const chunk = { start: () => sink.chunkStart?.(), end: () => sink.chunkEnd?.() };
      await readSseData(
        nodeBodyOf(response.body) ?? response.body,
        (data) => {
          lastEventAt = Date.now();
          if (data === "[DONE]") return true;
          usage = dispatch(JSON.parse(data) as ResponseStreamEvent, sink);
          return usage !== undefined;
        },
        chunk,
      );
      if (usage !== undefined) return { usage };
      throw aborted(controller) ?? new ModelError("stream disconnected before completion: stream closed before response.completed", STREAM_DISCONNECTED_INFO, true);
    } catch (err) {
      throw aborted(controller) ?? toModelError(err, started);
    } finally {
      clearInterval(watchdog);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

function aborted(controller: AbortController): Error | null {
  if (!controller.signal.aborted) return null;
  if (controller.signal.reason === IDLE) {
    return new ModelError("stream disconnected before completion: idle timeout waiting for SSE", STREAM_DISCONNECTED_INFO, true);
  }
  return new ModelAbortedError(controller.signal.reason);
}

/** Feeds one event to the sink; returns the usage (possibly null) once the response completed. */
function dispatch(ev: ResponseStreamEvent, sink: ModelStreamSink): ModelUsage | null | undefined {
  const bare = ev as { type?: unknown; error?: { message?: unknown } };
  if (bare.type === undefined && bare.error) {
    // An error object in place of an event, as some providers send it.
    throw new ModelError(typeof bare.error.message === "string" ? bare.error.message : JSON.stringify(bare.error), "other", true);
  }
  switch (ev.type) {
    case "response.output_text.delta":
      sink.messageDelta(ev.item_id, ev.delta);
      return undefined;
    case "response.reasoning_summary_text.delta":
      sink.reasoningSummaryDelta(ev.item_id, ev.summary_index, ev.delta);
      return undefined;
    case "response.reasoning_text.delta":
      sink.reasoningTextDelta(ev.item_id, ev.content_index, ev.delta);
      return undefined;
    case "response.reasoning_summary_part.added":
      sink.reasoningSummaryPartAdded(ev.item_id, ev.summary_index);
      return undefined;
    case "response.output_item.added":
      if (ev.item.type === "message") sink.messageStarted(ev.item.id);
      else if (ev.item.type === "reasoning") sink.reasoningStarted(ev.item.id);
      return undefined;
    case "response.output_item.done": {
      const item = ev.item;
      if (item.type === "message") {
        let text = "";
        for (const part of item.content) text += part.type === "output_text" ? part.text : part.refusal;
        sink.messageDone(item.id, text);
      } else if (item.type === "reasoning") {
        sink.reasoningDone(
          item.id,
          item.summary.map((s) => s.text),
          (item.content ?? []).map((c) => c.text),
        );
      } else if (item.type === "function_call") {
        sink.functionCall({ callId: item.call_id, name: item.name, arguments: item.arguments });
      }
      return undefined;
    }
    case "response.completed":
      return toUsage(ev.response.usage);
    case "response.failed":
      throw new ModelError(`stream disconnected before completion: ${ev.response.error?.message ?? "response.failed event received"}`, "other", true, { usage: toUsage(ev.response.usage) });
    case "response.incomplete":
      throw new ModelError(`Incomplete response returned, reason: ${ev.response.incomplete_details?.reason ?? "unknown"}`, "other", true, { usage: toUsage(ev.response.usage) });
    case "error":
      throw new ModelError(ev.message, "other", true);
    default:
      return undefined;
  }
}

function toUsage(u: OpenAI.Responses.ResponseUsage | undefined | null): ModelUsage | null {
  if (!u) return null;
  return {
    inputTokens: u.input_tokens,
    cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.output_tokens,
    reasoningOutputTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
    totalTokens: u.total_tokens,
  };
}

function toModelError(err: unknown, started: boolean): ModelError {
  if (err instanceof ModelError) return err;
  if (err instanceof APIError && err.status !== undefined) {
    const detail = (err.error as { message?: unknown } | undefined)?.message;
    const text = typeof detail === "string" ? detail : err.message;
    return new ModelError(`unexpected status ${err.status}: ${text}`, "other", false, { cause: err });
  }
  const reason = err instanceof Error ? err.message : String(err);
  if (started) return new ModelError(`stream disconnected before completion: ${reason}`, STREAM_DISCONNECTED_INFO, true, { cause: err });
  return new ModelError(`error sending request to model provider: ${reason}`, "other", false, { cause: err });
}

function toParams(r: ModelRequest): ResponseCreateParamsStreaming {
  const params: ResponseCreateParamsStreaming = {
    model: r.model,
    instructions: r.instructions,
    input: r.input as ResponseCreateParamsStreaming["input"],
    tools: r.tools as ResponseCreateParamsStreaming["tools"],
    tool_choice: "auto",
    parallel_tool_calls: false,
    store: false,
    stream: true,
    prompt_cache_key: r.promptCacheKey,
  };
  if (r.reasoning.effort !== null || r.reasoning.summary !== null) {
    const reasoning: Record<string, unknown> = {};
    if (r.reasoning.effort !== null) reasoning["effort"] = r.reasoning.effort;
    if (r.reasoning.summary !== null && r.reasoning.summary !== "none") reasoning["summary"] = r.reasoning.summary;
    params.reasoning = reasoning as ResponseCreateParamsStreaming["reasoning"];
  }
  if (r.outputSchema !== undefined && r.outputSchema !== null) {
    params.text = { format: { type: "json_schema", name: "output", schema: r.outputSchema as Record<string, unknown>, strict: false } };
  }
  if (r.maxOutputTokens !== undefined) params.max_output_tokens = r.maxOutputTokens;
  if (r.serviceTier) params.service_tier = r.serviceTier as ResponseCreateParamsStreaming["service_tier"];
  return params;
}
