import type { Duplex } from "node:stream";
import { rejectUpgrade } from "../http-endpoints.ts";
import type { AuthResult } from "./authenticator.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Answers a refused upgrade. Without a reason: Codex's plain-text 401. With one: a JSON body
 * `{error: "unauthorized", reason, message}` and `WWW-Authenticate` as RFC 6750 §3 has it (no error
 * code when no credentials were sent, else `invalid_token` with the message as its description).
 * Too many failures: 429 with `Retry-After`.
 */
export function rejectAuth(socket: Duplex, result: Extract<AuthResult, { ok: false }>): void {
  if (result.retryAfterSeconds !== undefined) {
    const body = JSON.stringify({ error: "too_many_requests", retryAfterSeconds: result.retryAfterSeconds, message: result.message });
    rejectUpgrade(socket, 429, body, { contentType: JSON_TYPE, headers: { "Retry-After": String(result.retryAfterSeconds) } });
    return;
  }
  if (result.reason === undefined) {
    rejectUpgrade(socket, 401, result.message);
    return;
  }
  const body = JSON.stringify({ error: "unauthorized", reason: result.reason, message: result.message });
  const description = quoted(result.message);
  const challenge =
    result.reason === "missing"
      ? `Bearer realm="threadmesh"`
      : `Bearer realm="threadmesh", error="invalid_token", error_description="${description}"`;
  rejectUpgrade(socket, 401, body, { contentType: JSON_TYPE, headers: { "WWW-Authenticate": challenge } });
}

/** RFC 6750 error_description: visible ASCII without `"` and `\`. */
function quoted(s: string): string {
  return s.replace(/[^\x20-\x7e]|["\\]/g, "'");
}
