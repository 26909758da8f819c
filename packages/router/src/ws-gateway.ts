import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "@threadmesh/telemetry";
import type { Authenticator, Principal } from "./auth/authenticator.ts";
import type { FlushScheduler } from "./flush-scheduler.ts";
import { rejectAuth } from "./auth/auth-response.ts";
import { originAllowed, rejectUpgrade, serveHttp, type EndpointSources } from "./http-endpoints.ts";
import type { OutboundBudget } from "./outbound-budget.ts";
import type { ConnectionInfo, TransportAcceptor } from "./transport.ts";
import { WsLink } from "./ws-link.ts";

/** Time clients get to answer our close frame at shutdown before their sockets are dropped, in ms. */
const CLOSE_GRACE_MS = 1_000;

export interface WsGatewayOptions {
  host: string;
  port: number;
  /** Largest inbound message, in bytes. */
  maxFrameBytes: number;
  maxConnections: number;
  /** In ms; 0 disables pings. */
  pingIntervalMs: number;
  allowedOrigins: ReadonlySet<string>;
  authenticator: Authenticator;
  acceptor: TransportAcceptor;
  endpoints: EndpointSources;
  /** Returns why new connections are refused right now (503), or null to accept. */
  refusal(): string | null;
  scheduler: FlushScheduler;
  /** Counts what each connection's socket buffers. */
  budget: OutboundBudget;
  logger: Logger;
}

/**
 * The router's public HTTP server: health endpoints and WebSocket upgrades on one port (metrics are
 * served apart, see `Router`). `ws` runs in
 * `noServer` mode so that origin checks and authentication happen here, before the handshake
 * completes and before any JSON-RPC. Upgrades are accepted on any path.
 */
export class WsGateway {
  readonly #opts: WsGatewayOptions;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  /** Open connections and who they authenticated as. */
  readonly #links = new Map<WsLink, Principal>();
  #authenticating = 0;
  #pingTimer: NodeJS.Timeout | undefined;
  #onEmpty: (() => void) | undefined;

  constructor(opts: WsGatewayOptions) {
    this.#opts = opts;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: opts.maxFrameBytes,
    });
    this.#server = createServer((req, res) => serveHttp(req, res, opts.endpoints, opts.allowedOrigins));
    this.#server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#server.on("clientError", (_err, socket: Duplex) => socket.destroy());
  }

  /** Open WebSocket connections. */
  get connectionCount(): number {
    return this.#links.size;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    if (this.#opts.pingIntervalMs > 0) {
      this.#pingTimer = setInterval(() => {
        for (const link of this.#links.keys()) link.heartbeat();
      }, this.#opts.pingIntervalMs);
      this.#pingTimer.unref();
    }
    return this.#server.address() as AddressInfo;
  }

  /** Starts the closing handshake on every connection. */
  closeAll(code: number, reason: string): void {
    for (const link of this.#links.keys()) link.close(code, reason);
  }

  /** Starts the closing handshake on the connections whose principal matches; returns how many. */
  closeWhere(match: (p: Principal) => boolean, code: number, reason: string): number {
    let n = 0;
    for (const [link, principal] of this.#links) {
      if (!match(principal)) continue;
      link.close(code, reason);
      n++;
    }
    return n;
  }

  /** Stops listening, closes every connection (1001) and waits until the sockets are gone. */
  async close(): Promise<void> {
    clearInterval(this.#pingTimer);
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    this.closeAll(1001, "server shutting down");
    if (this.#links.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_GRACE_MS);
        this.#onEmpty = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      for (const link of this.#links.keys()) link.terminate();
    }
    this.#server.closeAllConnections();
    await stopped;
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const swallow = (): void => {};
    socket.on("error", swallow);
    if (!originAllowed(req.headers, this.#opts.allowedOrigins) && !this.#opts.endpoints.console?.admitsUpgrade(req)) {
      rejectUpgrade(socket, 403, "");
      return;
    }
    const refusal = this.#opts.refusal();
    if (refusal !== null) {
      rejectUpgrade(socket, 503, refusal);
      return;
    }
    if (this.#links.size + this.#authenticating >= this.#opts.maxConnections) {
      rejectUpgrade(socket, 503, "too many connections");
      return;
    }
    this.#authenticating++;
    const remoteAddress = req.socket.remoteAddress;
    this.#opts.authenticator
      .authenticate({ headers: req.headers, remoteAddress })
      .catch((err: unknown) => {
        this.#opts.logger.warn({ err }, "authenticator failed");
        return { ok: false as const, message: "authentication failed" };
      })
      .then((result) => {
        this.#authenticating--;
        if (!result.ok) {
          rejectAuth(socket, result);
          return;
        }
        const late = this.#opts.refusal();
        if (late !== null) {
          rejectUpgrade(socket, 503, late);
          return;
        }
        this.#wss.handleUpgrade(req, socket, head, (ws) => {
          socket.off("error", swallow);
          this.#accept(ws, req, result.principal, remoteAddress);
        });
      });
  }

  #accept(ws: WebSocket, req: IncomingMessage, principal: Principal, remoteAddress: string | undefined): void {
    const link = new WsLink(ws, this.#opts.scheduler, this.#opts.budget);
    this.#links.set(link, principal);
    const traceparent = req.headers.traceparent;
    const tracestate = req.headers.tracestate;
    const info: ConnectionInfo = {
      principal,
      remoteAddress,
      trace: typeof traceparent === "string" ? { traceparent, tracestate: typeof tracestate === "string" ? tracestate : null } : null,
    };
    const handler = this.#opts.acceptor.opened(link, info);
    link.attach(handler, this.#opts.maxFrameBytes, () => {
      this.#links.delete(link);
      if (this.#links.size === 0) this.#onEmpty?.();
    });
  }
}
