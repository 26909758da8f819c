import { ConnectError } from "./errors.ts";

/** The little the SDK needs of a WebSocket. */
export interface WireSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onMessage(listener: (text: string) => void): void;
  onClose(listener: (code: number, reason: string) => void): void;
}

/** Opens a socket to `url` presenting `token`; resolves once it is open. */
export type SocketFactory = (url: string, token: string | undefined) => Promise<WireSocket>;

interface NodeWs {
  on(event: "message", cb: (data: { toString(): string }, isBinary: boolean) => void): void;
  on(event: "close", cb: (code: number, reason: { toString(): string }) => void): void;
  once(event: "open", cb: () => void): void;
  once(event: "error", cb: (err: Error) => void): void;
  once(event: "unexpected-response", cb: (req: unknown, res: { statusCode?: number; statusMessage?: string }) => void): void;
  on(event: "error", cb: (err: Error) => void): void;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}
type NodeWsConstructor = new (url: string, opts: { headers: Record<string, string>; maxPayload: number }) => NodeWs;

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

/**
 * The default factory: in Node, the `ws` package with `Authorization: Bearer <token>` (loaded on
 * demand under a computed name, so browser bundles never include it); elsewhere the platform
 * `WebSocket`, signed in through a ticket ({@link ticketSocketFactory}) since it cannot send headers.
 */
export const defaultSocketFactory: SocketFactory = async (url, token) => {
  if (isNode) return openNodeSocket(url, token);
  if (token !== undefined) return ticketSocketFactory()(url, token);
  return openPlatformSocket(url, []);
};

/** Subprotocols of a ticketed upgrade: the console's, offered first so the server echoes it, then the ticket. */
const CONSOLE_PROTOCOL = "threadmesh.console";
const TICKET_PROTOCOL_PREFIX = "threadmesh.ticket.";

type PlatformWebSocket = new (url: string, protocols?: string[]) => WebSocket;

/**
 * For browsers, which cannot put a credential in a WebSocket upgrade's headers: exchanges the token at
 * the router's `POST /console/ticket` (an `Authorization: Bearer` request; routers serve it with the
 * console on) for a single-use ticket, and offers the ticket as a subprotocol. Each (re)connection
 * fetches a new ticket. The page must be same-origin with the router or an allowed origin.
 */
export function ticketSocketFactory(opts: { ticketUrl?: (wsUrl: string) => string; WebSocket?: PlatformWebSocket } = {}): SocketFactory {
  return async (url, token) => {
    if (token === undefined) return openPlatformSocket(url, [], opts.WebSocket);
    const ticketUrl = opts.ticketUrl?.(url) ?? defaultTicketUrl(url);
    let res: Response;
    try {
      res = await fetch(ticketUrl, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    } catch (err) {
      throw new ConnectError(url, `ticket request failed: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { ticket?: unknown; message?: unknown };
    if (!res.ok || typeof body.ticket !== "string") {
      throw new ConnectError(url, `ticket refused: ${res.status}${typeof body.message === "string" ? ` ${body.message}` : ""}`, res.status);
    }
    return openPlatformSocket(url, [CONSOLE_PROTOCOL, TICKET_PROTOCOL_PREFIX + body.ticket], opts.WebSocket);
  };
}

function defaultTicketUrl(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  u.pathname = "/console/ticket";
  u.search = "";
  return u.toString();
}

async function openNodeSocket(url: string, token: string | undefined): Promise<WireSocket> {
  // Built at run time so that bundlers neither fold nor follow it: browser bundles carry no `ws`.
  const name = ["w", "s"].join("");
  const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as { WebSocket?: NodeWsConstructor; default?: NodeWsConstructor };
  const Ctor = mod.WebSocket ?? mod.default;
  if (!Ctor) throw new ConnectError(url, "the ws package exports no WebSocket");
  const ws = new Ctor(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` }, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_req, res) => {
      ws.terminate();
      reject(new ConnectError(url, `upgrade refused: ${res.statusCode ?? "?"} ${res.statusMessage ?? ""}`.trim(), res.statusCode ?? null));
    });
    ws.once("error", (err) => reject(new ConnectError(url, err.message)));
  });
  // Errors after the open surface as a close.
  ws.on("error", () => undefined);
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    onMessage: (l) => ws.on("message", (data) => l(data.toString())),
    onClose: (l) => ws.on("close", (code, reason) => l(code, reason.toString())),
  };
}

async function openPlatformSocket(url: string, protocols: string[], ctor?: PlatformWebSocket): Promise<WireSocket> {
  const Ctor = ctor ?? (globalThis as { WebSocket?: PlatformWebSocket }).WebSocket;
  if (!Ctor) throw new ConnectError(url, "no WebSocket in this environment; pass createWebSocket");
  const ws = protocols.length > 0 ? new Ctor(url, protocols) : new Ctor(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new ConnectError(url, "connection failed")), { once: true });
  });
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    onMessage: (l) => ws.addEventListener("message", (e) => l(typeof e.data === "string" ? e.data : String(e.data))),
    onClose: (l) => ws.addEventListener("close", (e) => l(e.code, e.reason)),
  };
}
