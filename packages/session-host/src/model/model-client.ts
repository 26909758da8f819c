/** One sampling request of a turn. */
export interface ModelRequest {
  model: string;
  instructions: string;
  /** Responses API input items: the thread's history plus anything injected for this request. */
  input: unknown[];
  /** Responses API tool definitions. */
  tools: unknown[];
  /** Sent as `prompt_cache_key`: the thread id, so one conversation shares a cache (and a sim script). */
  promptCacheKey: string;
  /** Reasoning options; omitted when both are null. */
  reasoning: { effort: string | null; summary: string | null };
  /** JSON Schema the final message must follow (this turn only). */
  outputSchema?: unknown;
  serviceTier?: string | null;
  /** Sent as `max_output_tokens`: the output tokens admission reserved for this request. */
  maxOutputTokens?: number;
}

/**
 * Receives a response's stream, normalised. Calls are synchronous and in stream order; a sink must not
 * block (the delta path is hot: no awaits, no storage writes).
 */
export interface ModelStreamSink {
  messageStarted(itemId: string): void;
  messageDelta(itemId: string, delta: string): void;
  messageDone(itemId: string, text: string): void;
  reasoningStarted(itemId: string): void;
  reasoningSummaryPartAdded(itemId: string, summaryIndex: number): void;
  reasoningSummaryDelta(itemId: string, summaryIndex: number, delta: string): void;
  reasoningTextDelta(itemId: string, contentIndex: number, delta: string): void;
  reasoningDone(itemId: string, summary: string[], content: string[]): void;
  functionCall(call: ModelFunctionCall): void;
  /** Brackets the events of one network read, so what they publish can travel together. */
  chunkStart?(): void;
  chunkEnd?(): void;
}

export interface ModelFunctionCall {
  callId: string;
  name: string;
  /** Raw JSON text as the model produced it. */
  arguments: string;
}

/** Token counts of one response. */
export interface ModelUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
  totalTokens: number;
}

export interface ModelResponse {
  usage: ModelUsage | null;
}

/** A model provider. Implementations: {@link OpenAIResponsesModel}. */
export interface ModelClient {
  /**
   * Sends one request and feeds its stream into `sink` until the response completes. Rejects with
   * {@link ModelError} when the request or the stream fails, and with {@link ModelAbortedError} when
   * `signal` aborts it.
   */
  stream(request: ModelRequest, sink: ModelStreamSink, signal: AbortSignal): Promise<ModelResponse>;
}

/** A failed model request, already phrased for the client (`TurnError.message` / `codexErrorInfo`). */
export class ModelError extends Error {
  readonly codexErrorInfo: unknown;
  /** True when response events had arrived before the failure. */
  readonly streamStarted: boolean;
  /**
   * The usage the provider reported with the failure (`response.incomplete` and `response.failed` carry
   * the response's usage): billed like a completed request's. Null when it reported none.
   */
  readonly usage: ModelUsage | null;
  constructor(message: string, codexErrorInfo: unknown, streamStarted: boolean, options?: { cause?: unknown; usage?: ModelUsage | null }) {
    super(message, options);
    this.name = "ModelError";
    this.codexErrorInfo = codexErrorInfo;
    this.streamStarted = streamStarted;
    this.usage = options?.usage ?? null;
  }
}

/** The caller aborted the request; `reason` is the signal's reason. */
export class ModelAbortedError extends Error {
  readonly reason: unknown;
  constructor(reason: unknown) {
    super("model request aborted");
    this.name = "ModelAbortedError";
    this.reason = reason;
  }
}

/** `codexErrorInfo` of a stream that broke off or went silent. */
export const STREAM_DISCONNECTED_INFO = { responseStreamDisconnected: { httpStatusCode: null } } as const;
