import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/**
 * What the public plain-HTTP endpoints report. Readiness reasons are fixed words (`router is
 * draining`, `bus disconnected`, `readiness check failed`…): never error text, host names or addresses.
 */
export interface EndpointSources {
  readiness(): Promise<Readiness>;
  /** The browser console, when enabled: serves `/console…` and admits its same-origin upgrades. */
  console?: {
    serve(req: IncomingMessage, res: ServerResponse, originAllowed: boolean): boolean;
    admitsUpgrade(req: IncomingMessage): boolean;
  };
}

/** Body of the 400 for plain requests, as Codex words it. */
export const NOT_AN_UPGRADE = "Connection header did not include 'upgrade'";
const TEXT = "text/plain; charset=utf-8";

/** True when the request carries no `Origin` header or an allowed one. */
export function originAllowed(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>): boolean {
  const origin = headers.origin;
  return origin === undefined || allowed.has(origin);
}

/**
 * Serves `GET /healthz` (liveness: 200 `ok`) and `GET /readyz` (200 `ok`, or 503 with the reason) on
 * the public port, and answers anything else (`/metrics` included: it has a listener of its own) with
 * 400 like Codex does for a request that is not an upgrade. Requests carrying a disallowed `Origin` get
 * 403 before anything else.
 */
export function serveHttp(req: IncomingMessage, res: ServerResponse, sources: EndpointSources, allowedOrigins: ReadonlySet<string>): void {
  if (sources.console?.serve(req, res, originAllowed(req.headers, allowedOrigins))) return;
  if (!originAllowed(req.headers, allowedOrigins)) {
    reply(res, 403, "");
    return;
  }
  const path = (req.url ?? "/").split("?", 1)[0];
  const isGet = req.method === "GET" || req.method === "HEAD";
  if (isGet && path === "/healthz") {
    reply(res, 200, "ok");
  } else if (isGet && path === "/readyz") {
    sources.readiness().then(
      (r) => reply(res, r.ready ? 200 : 503, r.ready ? "ok" : r.reason),
      () => reply(res, 503, "readiness check failed"),
    );
  } else {
    reply(res, 400, NOT_AN_UPGRADE);
  }
}

function reply(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, body: string, opts: { contentType?: string; headers?: Record<string, string> } = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  const extra = Object.entries(opts.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Connection: close\r\n" +
      extra +
      `Content-Type: ${opts.contentType ?? TEXT}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}
