import type { OutgoingHttpHeaders } from "node:http";
import type { SimFailure } from "./sim-response.ts";

/** A failure's status, code, message and extra headers with defaults applied. */
export interface FailureDetails {
  status: number;
  code: string;
  message: string;
  headers: OutgoingHttpHeaders;
}

const DEFAULT_MESSAGES: Record<SimFailure["kind"], string> = {
  error: "The model simulator raised a stream error.",
  failed: "The model simulator failed the response.",
  incomplete: "The model simulator ended the response incomplete.",
  http: "The server had an error while processing your request.",
  cut: "The model simulator cut the connection.",
  hang: "The model simulator stopped responding.",
};

export function failureDetails(fail: SimFailure): FailureDetails {
  const status = fail.status ?? 500;
  const headers: OutgoingHttpHeaders = {};
  if (fail.retryAfterMs !== undefined) {
    headers["retry-after-ms"] = String(Math.ceil(fail.retryAfterMs));
    headers["retry-after"] = String(Math.ceil(fail.retryAfterMs / 1000));
  }
  return {
    status,
    code: fail.code ?? (status === 429 && fail.kind === "http" ? "rate_limit_exceeded" : "server_error"),
    message: fail.message ?? (status === 429 && fail.kind === "http" ? "Rate limit reached." : DEFAULT_MESSAGES[fail.kind]),
    headers,
  };
}
