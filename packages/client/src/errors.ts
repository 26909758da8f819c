import type { RateLimitSnapshot } from "@threadmesh/protocol";

/** JSON-RPC code of a "retry later" answer (overload, shedding, admission). */
export const RETRYABLE_CODE = -32001;

/** Any error answer of the server: its JSON-RPC code, message and `data`. */
export class ThreadmeshError extends Error {
  readonly code: number;
  readonly data: unknown;
  /** The method whose request was answered with this error. */
  readonly method: string;
  constructor(method: string, code: number, message: string, data: unknown) {
    super(`${method}: ${message}`);
    this.name = "ThreadmeshError";
    this.method = method;
    this.code = code;
    this.data = data;
  }
  get retryable(): boolean {
    return false;
  }
}

/** -32001: the same request may succeed later; `retryAfterMs` says when (null: waiting alone will not help). */
export class RetryableError extends ThreadmeshError {
  readonly retryAfterMs: number | null;
  /** Why the server refused (`overloaded`, `shed`, an admission stage…), when it said. */
  readonly reason: string | null;
  constructor(method: string, code: number, message: string, data: unknown) {
    super(method, code, message, data);
    this.name = "RetryableError";
    const d = (data ?? {}) as { retryAfterMs?: unknown; reason?: unknown };
    this.retryAfterMs = typeof d.retryAfterMs === "number" ? d.retryAfterMs : null;
    this.reason = typeof d.reason === "string" ? d.reason : null;
  }
  override get retryable(): boolean {
    return this.retryAfterMs !== null;
  }
}

/** A refusal by the tenant's quotas (rate windows, concurrency, credits), with its rate-limit snapshot. */
export class QuotaError extends RetryableError {
  readonly rateLimits: RateLimitSnapshot;
  constructor(method: string, code: number, message: string, data: unknown) {
    super(method, code, message, data);
    this.name = "QuotaError";
    this.rateLimits = (data as { rateLimits: RateLimitSnapshot }).rateLimits;
  }
}

/** Any other error answer: invalid request or params (-32600, -32602), unknown method (-32601), internal (-32603). */
export class ProtocolError extends ThreadmeshError {
  constructor(method: string, code: number, message: string, data: unknown) {
    super(method, code, message, data);
    this.name = "ProtocolError";
  }
}

/** The connection dropped before the answer came: the request may or may not have taken effect. */
export class ConnectionLostError extends Error {
  readonly method: string;
  constructor(method: string, detail: string) {
    super(`${method}: connection lost before the answer (${detail})`);
    this.name = "ConnectionLostError";
    this.method = method;
  }
}

/** The client was closed, or could not (re)connect and gave up. */
export class ClientClosedError extends Error {
  constructor(message = "client closed") {
    super(message);
    this.name = "ClientClosedError";
  }
}

/** Opening the WebSocket failed: `status` is the HTTP status of a refused upgrade (401, 403, 429, 503), when there was one. */
export class ConnectError extends Error {
  readonly status: number | null;
  readonly url: string;
  constructor(url: string, message: string, status: number | null = null) {
    super(`${url}: ${message}`);
    this.name = "ConnectError";
    this.url = url;
    this.status = status;
  }
  /** A refused credential: reconnecting with the same one cannot help. */
  get fatal(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The operation was cancelled with its AbortSignal. */
export class AbortError extends Error {
  constructor(reason?: unknown) {
    super(typeof reason === "string" ? reason : "aborted");
    this.name = "AbortError";
  }
}

/** Builds the typed error of an error answer. */
export function errorFromAnswer(method: string, error: { code: number; message: string; data?: unknown }): ThreadmeshError {
  if (error.code === RETRYABLE_CODE) {
    const d = error.data as { rateLimits?: unknown } | undefined;
    if (d && typeof d === "object" && d.rateLimits && typeof d.rateLimits === "object") return new QuotaError(method, error.code, error.message, error.data);
    return new RetryableError(method, error.code, error.message, error.data);
  }
  return new ProtocolError(method, error.code, error.message, error.data);
}
