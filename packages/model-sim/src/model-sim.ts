import type { EventEmitter } from "node:events";
import type { GenerativeOptions } from "./generate-response.ts";
import type { SimResponse } from "./sim-response.ts";

/** The fields of a `POST /v1/responses` body the simulator looks at; every other field is kept as sent. */
export interface SimRequestBody {
  model?: string;
  input?: string | unknown[];
  instructions?: string | null;
  tools?: unknown[];
  stream?: boolean;
  /** Routes scripts and request records; Threadmesh sends the thread id here. */
  prompt_cache_key?: string;
  [field: string]: unknown;
}

/** One model request as received. */
export interface RecordedRequest {
  /** `prompt_cache_key`, or `"*"` when the request had none. */
  key: string;
  /** Arrival number across all keys, from 1. */
  seq: number;
  /** Id of the response that answers it (`resp_…`). */
  responseId: string;
  /** When the body had been read: `performance.timeOrigin + performance.now()`, in ms since the epoch. */
  receivedAt: number;
  /** Size of the raw request body, in bytes. */
  bytes: number;
  body: SimRequestBody;
  /** The request's W3C `traceparent` header, when it had one (a traced caller's model-call span). */
  traceparent?: string;
}

/**
 * How a response ended: `completed` (including non-streamed answers), `failed` (`response.failed`),
 * `incomplete` (`response.incomplete`),
 * `error` (`error` event or HTTP error status), `cut` (socket destroyed by script), `disconnected` (the
 * client went away or the simulator closed first).
 */
export type StreamOutcome = "completed" | "failed" | "incomplete" | "error" | "cut" | "disconnected";

/** Emitted once per response, right after its last byte was handed to the socket. */
export interface StreamEnd {
  key: string;
  responseId: string;
  /** `performance.timeOrigin + performance.now()`, in ms since the epoch. */
  at: number;
  outcome: StreamOutcome;
}

/** Events of {@link ModelSim}. */
export interface ModelSimEvents {
  request: [RecordedRequest];
  streamEnd: [StreamEnd];
}

/** A running simulator. It is an EventEmitter of {@link ModelSimEvents}. */
export interface ModelSim extends EventEmitter<ModelSimEvents> {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /**
   * Appends responses to the queue for `key` (a `prompt_cache_key`; `"*"` is the default queue used when
   * a key's own queue is empty). Throws {@link SimScriptError} for malformed responses.
   */
  script(key: string, responses: readonly SimResponse[]): void;
  /**
   * Bodies of the kept requests for `key` (a `prompt_cache_key`, or `"*"` for requests without one) in
   * arrival order; of every key, in arrival order, when omitted. The `request` event carries the full
   * {@link RecordedRequest}.
   */
  requests(key?: string): SimRequestBody[];
  /** Forgets scripts and recorded requests. Streams in flight continue. */
  reset(): void;
  /** Stops listening and drops every open connection, hanging streams included. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startModelSim}. */
export interface ModelSimOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Behaviour when no script answers a request. */
  generative?: GenerativeOptions;
  /** Ids listed by `GET /v1/models`. Default `["sim-model"]`. */
  models?: readonly string[];
  /** Requests kept per key, oldest dropped first. Default 1,000. */
  maxRequestsPerKey?: number;
}
