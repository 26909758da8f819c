import { accountReadFor, rateLimitsReadFor, type RateLimitsReader } from "./handlers/account-reads.ts";
import {
  ErrorCode,
  InternalError,
  InvalidParamsError,
  InvalidRequestError,
  METHODS,
  OverloadedError,
  applyParamLimits,
  connectionThreadLimit,
  encodeError,
  encodeNotification,
  encodeResult,
  isKnownMethod,
  isUuid,
  newId,
  parseInbound,
  toRpcError,
  validateParams,
  type InboundMessage,
  type Params,
} from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";
import type { ResolvedRouterConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import type { FanOut } from "./fan-out.ts";
import type { HostForwarder, ForwardOutcome } from "./host-forwarder.ts";
import type { OutboundBudget } from "./outbound-budget.ts";
import { checkClientName, initializeResponse } from "./handlers/initialize.ts";
import type { PlatformInfo } from "./handlers/platform.ts";
import { LOCAL_HANDLERS } from "./local-handlers.ts";
import { remoteControlStatus, type RemoteControlStatus } from "./handlers/remote-control.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import type { TurnShedder } from "./shedding/turn-shedder.ts";
import { StartBacklog } from "./shedding/start-backlog.ts";
import type { ConnectionHandler, ConnectionInfo, TransportAcceptor, TransportLink } from "./transport.ts";

type Request = Extract<InboundMessage, { kind: "request" }>;
// `ParamsOf<"initialize">` is `unknown` (the method table widens its schemas), so take the schema's own type.
type InitializeParams = ReturnType<typeof Params.InitializeParams.parse>;

const BINARY_FRAME = { code: ErrorCode.InvalidRequest, message: "binary frames are not supported" };
const REMOTE_CONTROL_METHOD = "remoteControl/status/changed";
const NOT_INITIALIZED = { code: ErrorCode.InvalidRequest, message: "Not initialized" };
const ALREADY_INITIALIZED = { code: ErrorCode.InvalidRequest, message: "Already initialized" };
/**
 * A draining router refuses new requests as overloaded (retryable): it closes the connection with 1001
 * once its requests in flight are answered, and the retry goes out on the client's next connection.
 */
const DRAINING = {
  code: ErrorCode.Overloaded,
  message: "Server is draining; retry after reconnecting",
  data: { reason: "serverShuttingDown", retryAfterMs: 500 },
};

export interface MessageProcessorOptions {
  config: ResolvedRouterConfig;
  forwarder: HostForwarder;
  fanout: FanOut;
  metrics: RouterMetrics;
  /** The router's outbound memory, shared by every connection. */
  outbound: OutboundBudget;
  logger: Logger;
  platform: PlatformInfo;
  /** `account/rateLimits/read` (and `account/read`'s plan) from the credit store, scoped by the connection's tenant. */
  rateLimits?: RateLimitsReader;
  /** Sheds new turns (`turn/start` only) of the lowest priority classes under load; none: never shed. */
  shedder?: TurnShedder;
  /** False while the router drains: new requests are refused with a retryable error. */
  accepting(): boolean;
}

/**
 * The per-connection JSON-RPC state machine: framing errors, the handshake, validation, requests the
 * router answers itself and forwarding to session hosts with a bounded number in flight. It sees
 * connections only through {@link TransportLink}.
 */
export class MessageProcessor implements TransportAcceptor {
  readonly #opts: MessageProcessorOptions;
  readonly #connections = new Set<Connection>();
  #inflight = 0;
  /** Requests that may subscribe their connection to a thread, in flight per connection. */
  readonly #subscribing = new WeakMap<Connection, number>();
  #idleWaiters: Array<() => void> = [];
  /** Connections already sent `remoteControl/status/changed`. */
  readonly #remoteControlSent = new WeakSet<Connection>();
  readonly #remoteControl: RemoteControlStatus;
  /** turn/starts sent to hosts and not answered yet. */
  readonly #starts: StartBacklog;

  constructor(opts: MessageProcessorOptions) {
    this.#opts = opts;
    this.#remoteControl = remoteControlStatus(opts.config.codexHome);
    this.#starts = new StartBacklog(opts.config.turnStartBacklogMs);
  }

  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  /** Host requests in flight across every connection. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Resolves when no host request is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  opened(link: TransportLink, info: ConnectionInfo): ConnectionHandler {
    const { config, metrics } = this.#opts;
    const conn = new Connection({
      id: newId(),
      link,
      info,
      policy: { highWaterBytes: config.outboundHighWaterBytes, maxBytes: config.outboundMaxBytes, graceMs: config.outboundGraceMs },
      budget: this.#opts.outbound,
      metrics,
    });
    this.#connections.add(conn);
    metrics.connections.inc();
    try {
      this.#opts.fanout.addConnection(conn);
    } catch (err) {
      this.#opts.logger.error({ err }, "broadcast subscription failed");
      conn.close(1011, "internal error");
    }
    return {
      message: (data, isBinary) => this.#onMessage(conn, data, isBinary),
      oversized: (limit) => this.#onOversized(conn, limit),
      closed: () => this.#onClosed(conn),
    };
  }

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    this.#opts.metrics.framesIn.inc();
    if (isBinary) {
      conn.sendControl(encodeError(null, BINARY_FRAME));
      return;
    }
    const limits = this.#opts.config.limitsFor(conn.tenant);
    const msg = parseInbound(data.toString("utf8"), { maxDepth: limits.maxJsonDepth, maxIdChars: limits.maxRequestIdChars });
    switch (msg.kind) {
      case "request":
        this.#onRequest(conn, msg);
        return;
      case "response":
      case "error":
        this.#onAnswer(conn, msg);
        return;
      case "invalid":
        conn.sendControl(encodeError(msg.idText, { code: msg.code, message: msg.message, data: msg.data }));
        return;
      case "ignored":
        // Nothing to answer to (`{}`, `42`, an invalid id): silence, as Codex.
        return;
      case "notification":
        // `initialized` completes the documented handshake but gates nothing (as in Codex); after it an
        // initialized connection hears `remoteControl/status/changed` once, as from Codex. Other client
        // notifications are ignored.
        if (msg.method === "initialized" && conn.initialized && !this.#remoteControlSent.has(conn)) {
          this.#remoteControlSent.add(conn);
          if (!conn.optOut?.has(REMOTE_CONTROL_METHOD)) conn.sendControl(encodeNotification(REMOTE_CONTROL_METHOD, this.#remoteControl));
        }
        return;
    }
  }

  #onRequest(conn: Connection, req: Request): void {
    const started = performance.now();
    if (!this.#opts.accepting()) {
      this.#fail(conn, req, DRAINING, started);
      return;
    }
    if (req.method === "initialize") {
      this.#initialize(conn, req, started);
      return;
    }
    if (!conn.initialized) {
      this.#fail(conn, req, NOT_INITIALIZED, started);
      return;
    }
    const { config } = this.#opts;
    const limits = config.limitsFor(conn.tenant);
    let name: string;
    let params: unknown;
    let threadId: string | undefined;
    try {
      ({ name, params } = validateParams(req.method, req.params, req.hasParams, {
        experimentalApi: conn.experimentalApi,
        maxInputChars: limits.maxInputChars,
      }));
      applyParamLimits(name, params, limits);
      const route = METHODS[name as keyof typeof METHODS].route;
      if (route === "router" && (name === "account/rateLimits/read" || name === "account/read") && this.#opts.rateLimits) {
        void this.#readRateLimits(conn, req, name, this.#opts.rateLimits, started);
        return;
      }
      if (route === "router") {
        const handler = LOCAL_HANDLERS[name as keyof typeof METHODS];
        if (handler === undefined) throw new InvalidRequestError(`${name} is not served by this router`);
        conn.sendControl(encodeResult(req.idText, handler(params, config)));
        this.#observe(name, "ok", started);
        return;
      }
      threadId = canonicalThreadId(params, route === "thread");
      if (conn.inflight >= config.maxInflightPerConnection) {
        throw new OverloadedError(config.inflightRetryAfterMs, "connectionInflightLimit");
      }
      if (name === "turn/start" && this.#opts.shedder !== undefined) {
        const shed = this.#opts.shedder.refusal(conn.priorityClass);
        if (shed !== null) throw shed;
      }
      if (name === "turn/start") {
        const backlog = this.#starts.refusal();
        if (backlog !== null) throw backlog;
      }
      const subscribes = name === "thread/start" || name === "thread/fork" || (name === "thread/resume" && !conn.memberships.has(threadId!));
      if (subscribes) {
        const pending = this.#subscribing.get(conn) ?? 0;
        if (conn.memberships.size + pending >= limits.maxThreadsPerConnection) throw connectionThreadLimit(limits.maxThreadsPerConnection);
        this.#subscribing.set(conn, pending + 1);
      }
      void this.#forward(conn, req, name, params, route === "thread" ? threadId : undefined, threadId, started, subscribes);
    } catch (err) {
      const e = toRpcError(err);
      if (e.code === ErrorCode.Internal) this.#opts.logger.error({ err, connId: conn.id, method: req.method }, "request failed with an internal error");
      this.#fail(conn, req, e.toShape(), started);
    }
  }

  async #readRateLimits(conn: Connection, req: Request, name: "account/rateLimits/read" | "account/read", read: RateLimitsReader, started: number): Promise<void> {
    try {
      const result = name === "account/read" ? await accountReadFor(read, conn.tenant) : await rateLimitsReadFor(read, conn.tenant);
      conn.sendControl(encodeResult(req.idText, result));
      this.#observe(name, "ok", started);
    } catch (err) {
      this.#opts.logger.error({ err, connId: conn.id, tenant: conn.tenant }, "reading the tenant's rate limits failed");
      this.#fail(conn, req, new InternalError("rate limits could not be read").toShape(), started);
    }
  }

  async #forward(
    conn: Connection,
    req: Request,
    method: string,
    params: unknown,
    ownerThread: string | undefined,
    threadId: string | undefined,
    started: number,
    subscribes: boolean,
  ): Promise<void> {
    conn.inflight++;
    this.#inflight++;
    const answered = method === "turn/start" ? this.#starts.begin() : undefined;
    let outcome: ForwardOutcome = "error";
    try {
      outcome = await this.#opts.forwarder.forward(conn, {
        idText: req.idText,
        method,
        params,
        trace: req.trace,
        target: ownerThread === undefined ? { route: "place" } : { route: "thread", threadId: ownerThread },
        threadId,
      });
    } finally {
      answered?.();
      if (subscribes) this.#subscribing.set(conn, (this.#subscribing.get(conn) ?? 1) - 1);
      conn.inflight--;
      this.#inflight--;
      this.#observe(method, outcome, started);
      if (this.#inflight === 0 && this.#idleWaiters.length > 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  #initialize(conn: Connection, req: Request, started: number): void {
    if (conn.initialized) {
      this.#fail(conn, req, ALREADY_INITIALIZED, started);
      return;
    }
    try {
      const { params } = validateParams("initialize", req.params, req.hasParams, { experimentalApi: false });
      const p = params as InitializeParams;
      checkClientName(p.clientInfo.name);
      conn.clientName = p.clientInfo.name;
      conn.clientVersion = p.clientInfo.version;
      conn.experimentalApi = p.capabilities?.experimentalApi === true;
      const optOut = p.capabilities?.optOutNotificationMethods;
      conn.optOut = optOut && optOut.length > 0 ? new Set(optOut) : null;
      conn.initialized = true;
      conn.sendControl(encodeResult(req.idText, initializeResponse(p.clientInfo, this.#opts.platform, this.#opts.config.codexHome)));
      this.#observe("initialize", "ok", started);
    } catch (err) {
      this.#fail(conn, req, toRpcError(err).toShape(), started);
    }
  }

  /** A client answered a server request; unknown and already answered ids are ignored, as in Codex. */
  #onAnswer(conn: Connection, msg: Extract<InboundMessage, { kind: "response" | "error" }>): void {
    if (typeof msg.id !== "number") return;
    const entry = conn.requests.get(msg.id);
    if (entry === undefined || entry.answered) return;
    this.#opts.forwarder.answer(conn, entry, msg.kind === "response" ? { result: msg.result } : { error: msg.error });
  }

  #onOversized(conn: Connection, limit: number): void {
    this.#opts.metrics.connectionsClosed.inc({ reason: "frameTooLarge" });
    conn.sendControl(encodeError(null, { code: ErrorCode.InvalidRequest, message: `frame exceeds ${limit} bytes` }));
    conn.flush();
  }

  #onClosed(conn: Connection): void {
    conn.markClosed();
    for (const threadId of conn.memberships.keys()) this.#opts.forwarder.connectionClosed(conn, threadId);
    this.#opts.fanout.removeConnection(conn);
    conn.requests.clear();
    this.#connections.delete(conn);
    this.#opts.metrics.connections.dec();
  }

  #fail(conn: Connection, req: Request, error: { code: number; message: string; data?: unknown }, started: number): void {
    conn.sendControl(encodeError(req.idText, error));
    this.#observe(isKnownMethod(req.method) ? req.method : "unknown", "error", started);
  }

  #observe(method: string, outcome: ForwardOutcome, started: number): void {
    this.#opts.metrics.requestDuration.observe({ method, outcome }, (performance.now() - started) / 1000);
  }
}

/**
 * Thread ids must be UUIDs (as in Codex). They are forwarded in canonical form (lowercase, no `urn:uuid:`)
 * so that one thread has one subject. Required for thread-routed methods.
 */
function canonicalThreadId(params: unknown, required: boolean): string | undefined {
  const p = params as { threadId?: unknown } | undefined;
  const id = p?.threadId;
  if (typeof id !== "string") {
    if (required) throw new InvalidParamsError("Invalid params: missing field `threadId`");
    return undefined;
  }
  if (!isUuid(id)) throw new InvalidRequestError(`invalid thread id: ${id}`);
  const canonical = (id.startsWith("urn:uuid:") ? id.slice(9) : id).toLowerCase();
  (p as { threadId: string }).threadId = canonical;
  return canonical;
}
