import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/** Largest request body accepted, in bytes; long agent histories stay well below it. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024;

/** A request body over {@link MAX_REQUEST_BODY_BYTES}. */
export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Reads the whole body; rejects with {@link BodyTooLargeError} past the limit (the rest of the body is read
 * and discarded so the caller can still answer with a 413).
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size <= MAX_REQUEST_BODY_BYTES) {
        chunks.push(c);
      } else {
        tooLarge = true;
        chunks = [];
        reject(new BodyTooLargeError());
      }
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** The OpenAI error envelope, `{error: {message, type, param, code}}`. */
export function sendApiError(
  res: ServerResponse,
  status: number,
  error: { message: string; code?: string | null; type?: string },
  headers: OutgoingHttpHeaders = {},
): void {
  const type = error.type ?? (status === 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error");
  sendJson(res, status, { error: { message: error.message, type, param: null, code: error.code ?? null } }, headers);
}
