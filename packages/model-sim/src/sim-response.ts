/**
 * The scripted-response vocabulary. A {@link SimResponse} describes what one `POST /v1/responses` answers;
 * the simulator turns it into the Responses API event stream (or the final JSON object when the request
 * did not ask for `stream: true`).
 */

/** One model response. Scripts are queues of these; generative mode builds them too. */
export interface SimResponse {
  /** Output items, streamed in order. An empty list completes the response with no output. */
  output: SimOutput[];
  /** Overrides for `response.usage`; anything left out is estimated (see {@link SimUsage}). */
  usage?: SimUsage;
  /** Delay before the first byte of the HTTP response (status line included), in ms. Default 0. */
  ttftMs?: number;
  /**
   * Delay between consecutive delta events of the response, in ms; fractional values are kept on an
   * absolute schedule, so 0.5 gives 2,000 deltas/s. Default 0: as fast as possible.
   */
  chunkDelayMs?: number;
  /** Makes the response fail instead of completing. */
  fail?: SimFailure;
}

/** One output item. `id` overrides the generated item id (`msg_…`, `rs_…`, `fc_…`). */
export type SimOutput = SimMessageOutput | SimReasoningOutput | SimFunctionCallOutput;

/** An assistant message with one `output_text` part. */
export interface SimMessageOutput {
  type: "message";
  /** The text. A string is split into word deltas (`"Hello world"` → `"Hello"`, `" world"`); an array is
   *  sent as exactly those deltas. */
  text: string | string[];
  id?: string;
}

/** A reasoning item; each entry of `summary` is one summary part (string → word deltas, array → deltas). */
export interface SimReasoningOutput {
  type: "reasoning";
  summary: Array<string | string[]>;
  id?: string;
}

/** A function call. */
export interface SimFunctionCallOutput {
  type: "function_call";
  name: string;
  /** Any non-string value is sent as its JSON text; a string is sent verbatim (so malformed arguments can be
   *  scripted). The text is streamed in deltas of up to 16 characters. */
  arguments: unknown;
  /** The `call_id` the caller answers with a `function_call_output`. Default: a generated `call_…`. */
  callId?: string;
  id?: string;
}

/**
 * Token counts reported in `response.usage`. Defaults: `inputTokens` = request body bytes / 4;
 * `cachedTokens` = the previous request with the same key's input tokens, capped at `inputTokens`;
 * `outputTokens` = number of deltas; `reasoningTokens` = number of reasoning summary deltas.
 * `total_tokens` is always input + output.
 */
export interface SimUsage {
  inputTokens?: number;
  cachedTokens?: number;
  outputTokens?: number;
  reasoningTokens?: number;
}

/**
 * How a response fails:
 * - `error`: an `error` event (`{type:"error", code, message, param}`), then the stream ends.
 * - `failed`: a `response.failed` event whose `response.error` carries `code` and `message`.
 * - `incomplete`: a `response.incomplete` event (`incomplete_details.reason` is `code`, default
 *   `max_output_tokens`) carrying the items finished so far and the response's usage, as the real API
 *   ends a response cut short by its token limit or a content filter.
 * - `http`: no stream; HTTP `status` with an OpenAI-shaped JSON error body.
 * - `cut`: the socket is destroyed without completing the stream.
 * - `hang`: the stream stays open, silent, until the client disconnects or the simulator closes.
 */
export type SimFailureKind = "error" | "failed" | "incomplete" | "http" | "cut" | "hang";

export interface SimFailure {
  kind: SimFailureKind;
  /**
   * Events of the normal sequence sent before failing, counting from `response.created`. Default: every
   * event except the final `response.completed`. For `cut` and `hang`, 0 means nothing at all is sent,
   * not even the status line. Ignored by `http`.
   */
  afterEvents?: number;
  /** HTTP status for `http`. Default 500. */
  status?: number;
  /** Error message. Default: a generic message for the kind. */
  message?: string;
  /** Error code for `error`, `failed` and `http`. Default `server_error`, or `rate_limit_exceeded` for 429. */
  code?: string;
  /** For `http`: sent as `retry-after-ms` and `retry-after` (rounded up to whole seconds) headers. */
  retryAfterMs?: number;
}
