import type { IncomingMessage, ServerResponse } from "node:http";
import { loadConsoleAssets, type ConsoleAssets } from "@threadmesh/console";
import type { Authenticator } from "../auth/authenticator.ts";
import { parseBearer } from "../auth/bearer.ts";
import type { ConsoleTickets } from "./tickets.ts";
import { ticketOf } from "./ticket-authenticator.ts";

const PREFIX = "/console";
const NO_STORE = "no-store";
/** Largest body accepted by `POST /console/ticket` (it needs none). */
const MAX_TICKET_BODY_BYTES = 1024;

/** The console's page: the router's own origin, no framing, scripts from the console only. */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** True when the request's `Origin` is the origin it was sent to (the console's own page). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  return origin !== undefined && host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/**
 * The browser console under `/console`: its page and bundle, and `POST /console/ticket`, which
 * exchanges an `Authorization: Bearer` credential for a single-use WebSocket ticket.
 */
export class ConsoleRoutes {
  #assets: Promise<ConsoleAssets> | undefined;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly tickets: ConsoleTickets,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Whether an upgrade with an `Origin` outside the allowed list may go on to authentication: a
   * same-origin upgrade (the console's page) offering a ticket. The ticket alone then authenticates.
   */
  admitsUpgrade(req: IncomingMessage): boolean {
    return sameOrigin(req) && ticketOf(req.headers) !== undefined;
  }

  /** Serves the request when its path is the console's; false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, originAllowed: boolean): boolean {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return false;
    if (!originAllowed && !sameOrigin(req)) {
      send(res, 403, "text/plain; charset=utf-8", "");
      return true;
    }
    const isGet = req.method === "GET" || req.method === "HEAD";
    if (path === `${PREFIX}/ticket`) {
      if (req.method !== "POST") send(res, 405, "text/plain; charset=utf-8", "use POST", { allow: "POST" });
      else this.#issueTicket(req, res);
    } else if (isGet && (path === PREFIX || path === `${PREFIX}/`)) {
      this.#asset(res, (a) => a.html, "text/html; charset=utf-8", PAGE_HEADERS);
    } else if (isGet && path === `${PREFIX}/app.js`) {
      this.#asset(res, (a) => a.js, "text/javascript; charset=utf-8");
    } else if (isGet && path === `${PREFIX}/app.css`) {
      this.#asset(res, (a) => a.css, "text/css; charset=utf-8");
    } else {
      send(res, 404, "text/plain; charset=utf-8", "not found");
    }
    return true;
  }

  #asset(res: ServerResponse, pick: (a: ConsoleAssets) => string, contentType: string, headers: Record<string, string> = {}): void {
    this.#assets ??= loadConsoleAssets();
    this.#assets.then(
      (a) => send(res, 200, contentType, pick(a), { "cache-control": NO_STORE, ...headers }),
      (err: unknown) => {
        this.#assets = undefined;
        this.onError(err);
        send(res, 500, "text/plain; charset=utf-8", "console assets unavailable");
      },
    );
  }

  async #answerTicket(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = await this.authenticator.authenticate({ headers: req.headers, remoteAddress: req.socket.remoteAddress });
    if (!r.ok) {
      const status = r.retryAfterSeconds !== undefined ? 429 : 401;
      const extra: Record<string, string> = r.retryAfterSeconds !== undefined ? { "retry-after": String(r.retryAfterSeconds) } : {};
      sendJson(res, status, { error: "unauthorized", reason: r.reason ?? "invalid", message: r.message }, extra);
      return;
    }
    const ticket = await this.tickets.issue(r.principal);
    sendJson(res, 200, { ticket, tenant: r.principal.tenant, expiresInMs: this.tickets.ttlMs });
  }

  #issueTicket(req: IncomingMessage, res: ServerResponse): void {
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_TICKET_BODY_BYTES) req.destroy();
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      if (parseBearer(req.headers.authorization).kind !== "token") {
        sendJson(res, 401, { error: "unauthorized", reason: "missing", message: "send the API key as `Authorization: Bearer <key>`" });
        return;
      }
      this.#answerTicket(req, res).catch((err: unknown) => {
        this.onError(err);
        sendJson(res, 401, { error: "unauthorized", reason: "unavailable", message: "authentication failed" });
      });
    });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, "application/json", JSON.stringify(body), { "cache-control": NO_STORE, ...headers });
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
