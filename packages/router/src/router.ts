import type { RateLimitsReader } from "./handlers/account-reads.ts";
import { subscribeCredentialEvents, type Bus, type EventLog, type Subscription } from "@threadmesh/mesh";
import type { CredentialEvent } from "@threadmesh/protocol";
import { startMetricsServer, type Telemetry, type Logger, type MetricsServer } from "@threadmesh/telemetry";
import { ApiKeyVerifier, type ApiKeyLookup } from "./auth/api-key-verifier.ts";
import type { Authenticator, Principal } from "./auth/authenticator.ts";
import { CapabilityTokenAuthenticator } from "./auth/capability-token-authenticator.ts";
import { CredentialChain } from "./auth/credential-chain.ts";
import { FailureThrottle } from "./auth/failure-throttle.ts";
import { JwtVerifier } from "./auth/jwt-verifier.ts";
import { TenantStatusCache, type TenantLookup } from "./auth/tenant-status-cache.ts";
import { DEFAULT_DRAIN_DEADLINE_MS, resolveRouterConfig, type ResolvedRouterConfig, type RouterConfig } from "./config.ts";
import { FanOut } from "./fan-out.ts";
import { FlushScheduler } from "./flush-scheduler.ts";
import { currentPlatform } from "./handlers/platform.ts";
import { HostClient } from "./host-client.ts";
import { HostForwarder } from "./host-forwarder.ts";
import { HostRouting, type MeshView } from "./host-routing.ts";
import type { Readiness } from "./http-endpoints.ts";
import { MessageProcessor } from "./message-processor.ts";
import { OutboundBudget } from "./outbound-budget.ts";
import { ownerEventsReader } from "./owner-events.ts";
import { createRouterMetrics, type RouterMetrics } from "./router-metrics.ts";
import { TurnShedder } from "./shedding/turn-shedder.ts";
import { WsGateway } from "./ws-gateway.ts";
import { ConsoleRoutes } from "./console/console-http.ts";
import { TicketAuthenticator } from "./console/ticket-authenticator.ts";
import { ConsoleTickets } from "./console/tickets.ts";
import type { GrpcGateway, GrpcGatewayOptions } from "./grpc-gateway/grpc-gateway.ts";

/** Lifecycle: `starting` until `listen()`, `running`, `draining` after `drain()`, `stopped` after `close()`. */
export type RouterState = "starting" | "running" | "draining" | "stopped";

export interface RouterOptions {
  /** The only path to session hosts. The router does not close it. */
  bus: Bus;
  telemetry: Telemetry;
  config: RouterConfig;
  /** Unique per router process; hosts see it in every command's origin. */
  routerId: string;
  /** Replaces the authenticator built from `config.tokens`, `config.devMode`, `config.jwt` and `tenants`. */
  authenticator?: Authenticator;
  /**
   * The tenant store: enables API keys (`tm_live_…`) and checks that tenants named by JWTs exist and are
   * active. Without it only capability tokens and JWTs (any tenant they name) are accepted.
   */
  tenants?: ApiKeyLookup & TenantLookup;
  /** The thread event window `thread/resume` with `afterSeq` replays from; without it such a resume is never recovered. */
  eventLog?: EventLog;
  /**
   * Live hosts and thread owners (started by the caller): placement by load, adoption of threads whose
   * host died. Without it, commands go to thread subjects and the host queue group only.
   */
  mesh?: MeshView;
  /**
   * The tenant's rate-limit snapshot (plan windows, credits, plan type) from the credit store, for
   * `account/rateLimits/read`. Without it the read answers a snapshot without a plan.
   */
  rateLimits?: RateLimitsReader;
}

/**
 * WebSocket close code of connections whose credential was withdrawn (a revoked key, a suspended
 * tenant): 1008, policy violation, a standard code every client library knows; the reason says which.
 */
export const CREDENTIAL_WITHDRAWN_CLOSE_CODE = 1008;

/** Close reason sent to clients when the router drains. */
const DRAIN_CLOSE_REASON = "server draining; reconnect and resume";

/**
 * The WebSocket gateway: accepts Codex app-server v2 clients, authenticates them at the upgrade,
 * answers handshake and catalogue requests itself, routes everything else to session hosts over the
 * bus and fans thread events out to subscribed connections. Holds no durable state.
 */
export class Router {
  readonly id: string;
  readonly config: ResolvedRouterConfig;
  readonly #bus: Bus;
  readonly #telemetry: Telemetry;
  readonly #logger: Logger;
  readonly #metrics: RouterMetrics;
  readonly #fanout: FanOut;
  readonly #processor: MessageProcessor;
  readonly #gateway: WsGateway;
  /** The partner gRPC gateway, when `gatewayPort` is configured; made by `listen()` (gRPC loads only then). */
  #grpc: GrpcGateway | undefined;
  readonly #grpcOptions: GrpcGatewayOptions | undefined;
  readonly #outbound: OutboundBudget;
  readonly #apiKeys: ApiKeyVerifier | undefined;
  readonly #tenantStatus: TenantStatusCache | undefined;
  readonly #credentialEvents: Subscription;
  readonly #shedder: TurnShedder | undefined;
  #metricsServer: MetricsServer | undefined;
  #state: RouterState = "starting";
  #readinessCheck: (() => Promise<boolean>) | undefined;
  #draining: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(opts: RouterOptions, config: ResolvedRouterConfig) {
    this.id = opts.routerId;
    this.config = config;
    this.#bus = opts.bus;
    this.#telemetry = opts.telemetry;
    this.#logger = opts.telemetry.logger.child({ component: "router", routerId: opts.routerId });
    this.#metrics = createRouterMetrics(opts.telemetry.metrics);
    this.#outbound = new OutboundBudget(config.outboundTotalMaxBytes);
    const hosts = new HostClient(
      opts.bus,
      config.hostRequestTimeoutMs,
      opts.mesh && new HostRouting(opts.bus, opts.mesh, { logger: this.#logger, timeoutMs: config.hostRequestTimeoutMs }),
    );
    this.#fanout = new FanOut({
      bus: opts.bus,
      metrics: this.#metrics,
      logger: this.#logger,
      maxHeldBytes: config.outboundMaxBytes,
      joinDeltas: config.joinDeltas,
      eventLog: opts.eventLog,
      ownerEvents: ownerEventsReader(hosts, opts.routerId),
      onAccessRevoked: (conn, threadId) => forwarder.connectionClosed(conn, threadId),
    });
    const forwarder: HostForwarder = new HostForwarder({
      accepting: () => this.#state === "starting" || this.#state === "running",
      routerId: opts.routerId,
      hosts,
      fanout: this.#fanout,
      logger: this.#logger,
      tracer: opts.telemetry.tracer,
      eventLog: opts.eventLog,
      metrics: this.#metrics,
    });
    // Shedding needs the hosts' heartbeats: without a mesh view there is no load to read.
    this.#shedder = config.shedding && opts.mesh ? new TurnShedder({ hosts: opts.mesh.hosts, metrics: this.#metrics.shedding }) : undefined;
    this.#processor = new MessageProcessor({
      config,
      forwarder,
      fanout: this.#fanout,
      metrics: this.#metrics,
      outbound: this.#outbound,
      logger: this.#logger,
      platform: currentPlatform(),
      ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
      ...(this.#shedder ? { shedder: this.#shedder } : {}),
      accepting: () => this.#state === "starting" || this.#state === "running",
    });
    const capability = new CapabilityTokenAuthenticator({ tokens: config.tokens, loopbackTenant: config.devMode ? config.defaultTenant : undefined });
    this.#apiKeys = opts.tenants && new ApiKeyVerifier({ store: opts.tenants, cacheMs: config.credentialCacheMs });
    this.#tenantStatus = opts.tenants && new TenantStatusCache(opts.tenants, config.credentialCacheMs);
    const jwt = config.jwt ? new JwtVerifier({ ...config.jwt, ...(this.#tenantStatus ? { tenants: this.#tenantStatus } : {}) }) : undefined;
    const credentials =
      opts.authenticator ??
      new FailureThrottle(new CredentialChain({ capability, ...(this.#apiKeys ? { apiKeys: this.#apiKeys } : {}), ...(jwt ? { jwt } : {}) }), {
        failuresPerMinute: config.authFailuresPerMinute,
      });
    const tickets = config.console ? new ConsoleTickets(config.consoleTicketSecret === null ? {} : { secret: config.consoleTicketSecret }) : undefined;
    const authenticator = tickets ? new TicketAuthenticator(credentials, tickets) : credentials;
    const consoleRoutes = tickets && new ConsoleRoutes(credentials, tickets, (err) => this.#logger.error({ err }, "console failed"));
    const scheduler = new FlushScheduler((frames) => this.#metrics.framesOut.inc(frames));
    this.#gateway = new WsGateway({
      host: config.host,
      port: config.port,
      maxFrameBytes: config.maxFrameBytes,
      maxConnections: config.maxConnections,
      pingIntervalMs: config.pingIntervalMs,
      allowedOrigins: config.allowedOrigins,
      authenticator,
      acceptor: this.#processor,
      endpoints: { readiness: () => this.#readiness(), ...(consoleRoutes ? { console: consoleRoutes } : {}) },
      refusal: () => (this.#state === "running" ? null : `server is ${this.#state}`),
      scheduler,
      budget: this.#outbound,
      logger: this.#logger,
    });
    this.#grpcOptions =
      config.gatewayPort === null
        ? undefined
        : {
            host: config.host,
            port: config.gatewayPort,
            maxFrameBytes: config.maxFrameBytes,
            maxConnections: config.maxConnections,
            pingIntervalMs: config.pingIntervalMs,
            authenticator,
            acceptor: this.#processor,
            refusal: () => (this.#state === "running" ? null : `server is ${this.#state}`),
            scheduler,
            budget: this.#outbound,
            logger: this.#logger,
          };
    this.#credentialEvents = subscribeCredentialEvents(
      opts.bus,
      (e) => this.#applyCredentialEvent(e),
      (reason) => this.#logger.warn({ reason }, "invalid credential event dropped"),
    );
  }

  /** Drops cached credentials the event withdraws and closes the connections they authenticated. */
  #applyCredentialEvent(e: CredentialEvent): void {
    // Capability tokens are the operator's, configured rather than stored: no event withdraws them.
    const stored = (method: string): boolean => method !== "capabilityToken" && method !== "loopbackDevMode";
    let closed = 0;
    switch (e.kind) {
      case "keyRevoked":
        this.#apiKeys?.forgetKey(e.keyId);
        closed = this.#closeWhere((p) => p.tenant === e.tenant && p.keyId === e.keyId, "API key revoked");
        break;
      case "tenantSuspended":
        this.#apiKeys?.forgetTenant(e.tenant);
        this.#tenantStatus?.forget(e.tenant);
        closed = this.#closeWhere((p) => p.tenant === e.tenant && stored(p.method), "tenant suspended");
        break;
      case "tenantResumed":
        this.#apiKeys?.forgetTenant(e.tenant);
        this.#tenantStatus?.forget(e.tenant);
        break;
    }
    this.#logger.info({ event: e.kind, tenant: e.tenant, closed }, "credential event applied");
  }

  /** Closes the connections of both gateways whose principal matches, as withdrawn credentials; returns how many. */
  #closeWhere(match: (p: Principal) => boolean, reason: string): number {
    const ws = this.#gateway.closeWhere(match, CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason);
    return ws + (this.#grpc?.closeWhere(match, CREDENTIAL_WITHDRAWN_CLOSE_CODE, reason) ?? 0);
  }

  /** Validates the configuration (throws `RouterConfigError` listing every problem) and builds a router. */
  static async create(opts: RouterOptions): Promise<Router> {
    return new Router(opts, resolveRouterConfig(opts.config));
  }

  get state(): RouterState {
    return this.#state;
  }

  /**
   * Binds the metrics listener (when `metricsPort` is configured), then the configured host and port,
   * and starts accepting connections. `metricsUrl` is `http://host:port` of the metrics listener;
   * `gatewayAddress` is `host:port` of the partner gRPC gateway, when configured.
   */
  async listen(): Promise<{ port: number; url: string; metricsUrl: string | null; gatewayAddress: string | null }> {
    if (this.#state !== "starting") throw new Error(`cannot listen: router is ${this.#state}`);
    if (this.config.metricsPort !== null) {
      this.#metricsServer = await startMetricsServer({
        metrics: { render: () => this.renderMetrics() },
        host: this.config.metricsHost,
        port: this.config.metricsPort,
        readiness: () => this.#readiness(),
      });
    }
    let addr;
    let gatewayPort: number | null = null;
    try {
      addr = await this.#gateway.listen();
      if (this.#grpcOptions) {
        const { GrpcGateway } = await import("./grpc-gateway/grpc-gateway.ts");
        this.#grpc = new GrpcGateway(this.#grpcOptions);
        gatewayPort = await this.#grpc.listen();
      }
    } catch (err) {
      await this.#gateway.close();
      await this.#metricsServer?.close();
      throw err;
    }
    this.#state = "running";
    this.#shedder?.start();
    const host = addr.address === "0.0.0.0" || addr.address === "::" ? "127.0.0.1" : addr.address;
    const url = `ws://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
    const metricsUrl = this.#metricsServer?.url ?? null;
    const gatewayAddress = gatewayPort === null ? null : `${host.includes(":") ? `[${host}]` : host}:${gatewayPort}`;
    this.#logger.info({ url, metricsUrl, gatewayAddress }, "router listening");
    if (this.config.console && this.config.consoleTicketSecret === null && !this.config.devMode) {
      this.#logger.warn("console tickets are valid on this router only: give every router behind one address the same THREADMESH_CONSOLE_TICKET_SECRET");
    }
    return { port: addr.port, url, metricsUrl, gatewayAddress };
  }

  /** `/readyz` passes only while this resolves true (e.g. a store ping); checked with a timeout. */
  setReadinessCheck(fn: () => Promise<boolean>): void {
    this.#readinessCheck = fn;
  }

  /**
   * Stops intake: new upgrades get 503 and `/readyz` 503, new requests a retryable -32600. Waits up to
   * `deadlineMs` (ms from now; default {@link DEFAULT_DRAIN_DEADLINE_MS}) for host requests in flight,
   * then closes every connection with 1001 so that clients reconnect elsewhere and resume. Health
   * endpoints keep answering until `close()`.
   */
  drain(opts: { deadlineMs?: number } = {}): Promise<void> {
    if (this.#state === "stopped") return Promise.resolve();
    this.#draining ??= this.#drain(opts.deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS);
    return this.#draining;
  }

  /** Closes every connection and the listener; idempotent. The bus stays open. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #drain(deadlineMs: number): Promise<void> {
    this.#state = "draining";
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#processor.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    if (this.#processor.inflight > 0) this.#logger.warn({ inflight: this.#processor.inflight }, "drain deadline passed with requests in flight");
    this.#gateway.closeAll(1001, DRAIN_CLOSE_REASON);
    this.#grpc?.closeAll(1001, DRAIN_CLOSE_REASON);
  }

  async #shutdown(): Promise<void> {
    this.#state = "stopped";
    this.#shedder?.stop();
    this.#credentialEvents.unsubscribe();
    await Promise.all([this.#gateway.close(), this.#grpc?.close()]);
    this.#fanout.close();
    await this.#metricsServer?.close();
    this.#logger.info("router stopped");
  }

  async #readiness(): Promise<Readiness> {
    if (this.#state !== "running") return { ready: false, reason: `router is ${this.#state}` };
    if (!this.#bus.connected) return { ready: false, reason: "bus disconnected" };
    const check = this.#readinessCheck;
    if (check === undefined) return { ready: true };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), this.config.readinessTimeoutMs)));
    try {
      const r = await Promise.race([check(), timedOut]);
      if (r === "timeout") return { ready: false, reason: "readiness check timed out" };
      return r === true ? { ready: true } : { ready: false, reason: "readiness check failed" };
    } catch (err) {
      this.#logger.warn({ err }, "readiness check threw");
      return { ready: false, reason: "readiness check failed" };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Prometheus text of the process registry, with the outbound gauges sampled now. */
  async renderMetrics(): Promise<{ contentType: string; body: string }> {
    let sum = 0;
    let max = 0;
    for (const c of this.#processor.connections) {
      const b = c.bufferedBytes;
      sum += b;
      if (b > max) max = b;
    }
    this.#metrics.outboundBuffered.set({ stat: "sum" }, sum);
    this.#metrics.outboundBuffered.set({ stat: "max" }, max);
    this.#metrics.outboundBytes.set(this.#outbound.total);
    this.#metrics.outboundLimit.set(this.#outbound.capBytes);
    return this.#telemetry.metrics.render();
  }
}
