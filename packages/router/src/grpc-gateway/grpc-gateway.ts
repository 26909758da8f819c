import type { IncomingHttpHeaders } from "node:http";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "@threadmesh/telemetry";
import type { Authenticator, AuthResult, Principal } from "../auth/authenticator.ts";
import type { FlushScheduler } from "../flush-scheduler.ts";
import type { OutboundBudget } from "../outbound-budget.ts";
import type { ConnectionInfo, TransportAcceptor } from "../transport.ts";
import { gatewayServiceDefinition } from "./gateway-proto.ts";
import { GrpcLink, type GatewayCall } from "./grpc-link.ts";

/** Time calls get to end at shutdown before they are reset, in ms. */
const CLOSE_GRACE_MS = 1_000;
/** Shortest keepalive ping interval accepted from clients, in ms. */
const MIN_CLIENT_PING_INTERVAL_MS = 10_000;
/** Room for the `Frame` envelope around a frame of the largest allowed size. */
const ENVELOPE_BYTES = 16;

export interface GrpcGatewayOptions {
  host: string;
  /** 0 = ephemeral. */
  port: number;
  maxFrameBytes: number;
  /** Open calls, counted apart from WebSocket connections. */
  maxConnections: number;
  /** HTTP/2 keepalive ping interval, in ms; 0 disables. */
  pingIntervalMs: number;
  authenticator: Authenticator;
  acceptor: TransportAcceptor;
  /** Returns why new calls are refused right now (UNAVAILABLE), or null to accept. */
  refusal(): string | null;
  scheduler: FlushScheduler;
  budget: OutboundBudget;
  logger: Logger;
}

/**
 * The partner gateway: `threadmesh.gateway.v1.Gateway/Connect`, one bidirectional stream per logical
 * connection, each accepted like a WebSocket upgrade (same authenticator, same refusals) and handed to
 * the same acceptor, so requests, fan-out, approvals, replay and slow-consumer handling are the
 * WebSocket path's own. Plaintext HTTP/2: TLS is the ingress's, as for the WebSocket port.
 */
export class GrpcGateway {
  readonly #opts: GrpcGatewayOptions;
  readonly #server: grpc.Server;
  readonly #links = new Map<GrpcLink, Principal>();
  #authenticating = 0;
  #onEmpty: (() => void) | undefined;

  constructor(opts: GrpcGatewayOptions) {
    this.#opts = opts;
    this.#server = new grpc.Server({
      "grpc.max_receive_message_length": opts.maxFrameBytes + ENVELOPE_BYTES,
      "grpc.max_send_message_length": -1,
      ...(opts.pingIntervalMs > 0 ? { "grpc.keepalive_time_ms": opts.pingIntervalMs, "grpc.keepalive_timeout_ms": opts.pingIntervalMs } : {}),
      // Partners may ping their long-lived streams every 10 s without being told to calm down.
      "grpc.http2.min_ping_interval_without_data_ms": MIN_CLIENT_PING_INTERVAL_MS,
      "grpc.keepalive_permit_without_calls": 1,
    });
    this.#server.addService(gatewayServiceDefinition(), { Connect: (call: GatewayCall) => this.#connect(call) });
  }

  get connectionCount(): number {
    return this.#links.size;
  }

  /** Binds the port; returns the one bound. */
  listen(): Promise<number> {
    const host = this.#opts.host.includes(":") ? `[${this.#opts.host}]` : this.#opts.host;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(`${host}:${this.#opts.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  closeAll(code: number, reason: string): void {
    for (const link of this.#links.keys()) link.close(code, reason);
  }

  closeWhere(match: (p: Principal) => boolean, code: number, reason: string): number {
    let n = 0;
    for (const [link, principal] of this.#links) {
      if (!match(principal)) continue;
      link.close(code, reason);
      n++;
    }
    return n;
  }

  /** Ends every call (UNAVAILABLE, 1001), waits for them to go, then stops the server. */
  async close(): Promise<void> {
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
    this.#server.forceShutdown();
  }

  #connect(call: GatewayCall): void {
    const refuse = (code: grpc.status, details: string, metadata = new grpc.Metadata()): void => {
      call.emit("error", { code, details, metadata });
    };
    const refusal = this.#opts.refusal();
    if (refusal !== null) return refuse(grpc.status.UNAVAILABLE, refusal);
    if (this.#links.size + this.#authenticating >= this.#opts.maxConnections) return refuse(grpc.status.UNAVAILABLE, "too many connections");
    this.#authenticating++;
    const remoteAddress = peerAddress(call.getPeer());
    const headers = headersOf(call.metadata);
    this.#opts.authenticator
      .authenticate({ headers, remoteAddress })
      .catch((err: unknown): AuthResult => {
        this.#opts.logger.warn({ err }, "authenticator failed");
        return { ok: false, message: "authentication failed" };
      })
      .then((result) => {
        this.#authenticating--;
        if (call.cancelled) return;
        if (!result.ok) {
          const md = new grpc.Metadata();
          if (result.reason !== undefined) md.set("tm-auth-reason", result.reason);
          if (result.retryAfterSeconds !== undefined) {
            md.set("retry-after", String(result.retryAfterSeconds));
            return refuse(grpc.status.RESOURCE_EXHAUSTED, result.message, md);
          }
          return refuse(grpc.status.UNAUTHENTICATED, result.message, md);
        }
        const late = this.#opts.refusal();
        if (late !== null) return refuse(grpc.status.UNAVAILABLE, late);
        this.#accept(call, result.principal, remoteAddress, headers);
      });
  }

  #accept(call: GatewayCall, principal: Principal, remoteAddress: string | undefined, headers: IncomingHttpHeaders): void {
    const link = new GrpcLink(call, this.#opts.scheduler, this.#opts.budget);
    this.#links.set(link, principal);
    const { traceparent, tracestate } = headers;
    const info: ConnectionInfo = {
      principal,
      remoteAddress,
      trace: typeof traceparent === "string" ? { traceparent, tracestate: typeof tracestate === "string" ? tracestate : null } : null,
    };
    // Response headers go out at once: the client knows the call was accepted before any frame.
    call.sendMetadata(new grpc.Metadata());
    const handler = this.#opts.acceptor.opened(link, info);
    link.attach(handler, this.#opts.maxFrameBytes, () => {
      this.#links.delete(link);
      if (this.#links.size === 0) this.#onEmpty?.();
    });
  }
}

/** The metadata the authenticator reads, as the headers of an upgrade request. */
function headersOf(md: grpc.Metadata): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const key of ["authorization", "traceparent", "tracestate"]) {
    const v = md.get(key)[0];
    if (typeof v === "string") out[key] = v;
  }
  return out;
}

/** The address of `host:port` as grpc-js reports peers (IPv6 without brackets). */
function peerAddress(peer: string): string | undefined {
  if (peer === "unknown") return undefined;
  const i = peer.lastIndexOf(":");
  const host = i > 0 ? peer.slice(0, i) : peer;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
