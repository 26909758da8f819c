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
 * `WebSocket`, which cannot send headers: a token there needs a `createWebSocket` of the application's.
 */
export const defaultSocketFactory: SocketFactory = async (url, token) => {
  if (isNode) return openNodeSocket(url, token);
  if (token !== undefined) {
    throw new ConnectError(url, "a browser WebSocket cannot send an Authorization header; pass createWebSocket (e.g. one that fetches a ticket)");
  }
  return openPlatformSocket(url);
};

async function openNodeSocket(url: string, token: string | undefined): Promise<WireSocket> {
  const name = "ws";
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

async function openPlatformSocket(url: string): Promise<WireSocket> {
  const Ctor = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!Ctor) throw new ConnectError(url, "no WebSocket in this environment; pass createWebSocket");
  const ws = new Ctor(url);
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
