import { TurnPace } from "./capacity/turn-pace.ts";
import type { Bus, BusMessage, EventLog, HostRegistry, OwnerLeases, Subscription } from "@threadmesh/mesh";
import { probeSandbox } from "./sandbox/sandbox-probe.ts";
import { RecentEventsBudget } from "./recent-events.ts";
import type { ThreadStore } from "@threadmesh/persistence";
import {
  HOST_QUEUE_GROUP,
  InternalError,
  InvalidParamsError,
  InvalidRequestError,
  OverloadedError,
  PLACE_WILDCARD,
  type CommandEnvelope,
  type Origin,
} from "@threadmesh/protocol";
import { context, noopTelemetry, type Logger, type Telemetry } from "@threadmesh/telemetry";
import { canSee } from "./access/thread-access.ts";
import { deadlineRefusal } from "./command-deadline.ts";
import { decodeCommand, serve, replyError } from "./command-outcome.ts";
import { TracedCommand } from "./command-span.ts";
import { resolveHostConfig, resolveModelConfig, type HostConfig, type ModelConfig } from "./config.ts";
import { listLoaded, listThreads } from "./handlers/list-handlers.ts";
import { searchThreads } from "./handlers/search-handler.ts";
import { forkThread } from "./handlers/thread-fork.ts";
import { startThread } from "./handlers/thread-start.ts";
import { serveUnloaded } from "./handlers/unloaded-commands.ts";
import { HostControl } from "./host-control.ts";
import { hostMetrics } from "./host-metrics.ts";
import type { HostServices } from "./host-services.ts";
import type { ModelClient } from "./model/model-client.ts";
import type { TurnAdmission } from "./admission/turn-admission.ts";
import { MeteredModel } from "./model/metered-model.ts";
import { LazyResponsesModel } from "./model/lazy-responses-model.ts";
import { findBwrap } from "./sandbox/bwrap.ts";
import { configuredPolicyCaps, type PolicyCapsLookup } from "./policy/policy-caps.ts";
import { TenantCapsCache, type TenantPolicySource } from "./policy/tenant-caps.ts";
import { tenantBounds, type WorkspaceBounds } from "./policy/workspace-bounds.ts";
import { leaseGuardedModel } from "./lease-guarded-model.ts";
import type { ThreadActor } from "./thread-actor.ts";
import { announceLoaded } from "./thread-adoption.ts";
import type { LoadedThreadState } from "./thread-loader.ts";
import { ThreadRegistry } from "./thread-registry.ts";
import { settleWithin } from "./settle-within.ts";
import { TenantQuota } from "./tenant-quota.ts";
import { TurnCapacity } from "./capacity/turn-capacity.ts";
import { DeltaLinger } from "./capacity/delta-linger.ts";

/** Recently published events a host keeps across its threads (see RecentEvents). */
const RECENT_EVENTS_BYTES = 64 * 1024 * 1024;

/** When a thread a draining host would have to load may be asked for again (of a live host then), ms. */
const DRAINING_RETRY_AFTER_MS = 250;

/** Default of how long, after the drain deadline, handing turns over (or ending them) waits for their writes, in ms. */
const DEFAULT_SETTLE_MS = 1_000;
/** Default of how long {@link SessionHost.close} waits for unloading threads and this host's entry, in ms. */
const DEFAULT_CLOSE_WITHIN_MS = 5_000;

/** `data.reason` of the -32001 a host answers when `maxConcurrentCommands` commands are being served. */
const HOST_BUSY = "hostBusy";
const MESH_PREFIX = "mesh/";

/** Lifecycle of a host. */
export type HostState = "starting" | "running" | "draining" | "stopped";

/** Dependencies and settings of {@link SessionHost.create}. */
export interface SessionHostOptions {
  bus: Bus;
  store: ThreadStore;
  /** Model provider settings; missing fields take their defaults. */
  model: Partial<ModelConfig>;
  /** Host settings; missing fields take their defaults. */
  config?: Partial<HostConfig>;
  /** Default: no-op telemetry. */
  telemetry?: Telemetry;
  /** Identifies this host in logs and metrics. */
  hostId: string;
  /** Model client to use instead of the Responses API client over `model` (other providers). */
  modelClient?: ModelClient;
  /** The thread event window (JetStream on NATS): an adopting owner continues after its last seq. */
  eventLog?: EventLog;
  /** Live hosts (heartbeats). Default: this process only. Share one with the routers in embedded mode. */
  hosts?: HostRegistry;
  /** Owner entries of loaded threads. Default: this process only. Share one with the routers in embedded mode. */
  owners?: OwnerLeases;
  /** The policy caps of each tenant. Default: `config.policyCaps`, narrowed by `tenantPolicies` when given. */
  policyCaps?: PolicyCapsLookup;
  /** Policy limits of tenants and plans (the tenant policy store): each narrows `config.policyCaps`. */
  tenantPolicies?: TenantPolicySource;
  /** The credit waterfall every turn and model request passes. Default: none (admission off). */
  admission?: TurnAdmission;
}

/**
 * A session host: takes placement requests (`thread/start`, `thread/fork`, listings, and thread
 * commands no host holds) from the host queue group, holds loaded threads as actors subscribed to their
 * own command subjects, and serves everything else from the store.
 */
export class SessionHost {
  readonly hostId: string;
  #state: HostState = "starting";
  readonly #services: HostServices;
  readonly #registry: ThreadRegistry;
  readonly #quota: TenantQuota;
  /** Per-tenant caps read from the tenant policy store; null when every tenant has the configured caps. */
  readonly #tenantCaps: TenantCapsCache | null;
  /** Commands taken from the placement group or this host's subject and not answered yet. */
  #serving = 0;
  readonly #logger: Logger;
  readonly #control: HostControl;
  #placeSub: Subscription | null = null;
  #activeTurns = 0;
  readonly #pace = new TurnPace();
  #turnsIdle: Array<() => void> = [];
  #closing: Promise<void> | null = null;

  private constructor(opts: SessionHostOptions) {
    this.hostId = opts.hostId;
    const telemetry = opts.telemetry ?? noopTelemetry();
    const config = resolveHostConfig(opts.config);
    const modelConfig = resolveModelConfig(opts.model);
    this.#logger = telemetry.logger.child({ hostId: opts.hostId });
    const m = telemetry.metrics;
    const threadsLoaded = m.gauge("tm_host_threads_loaded", "Threads held by this session host");
    const turnsActive = m.gauge("tm_host_turns_active", "Turns running on this session host");
    const commands = m.counter("tm_host_commands_total", "Commands received by this session host", ["method"]);
    const host = this;
    const bounds = new Map<string, WorkspaceBounds>();
    this.#tenantCaps = opts.tenantPolicies && !opts.policyCaps ? new TenantCapsCache({ server: config.policyCaps, source: opts.tenantPolicies }) : null;
    this.#control = new HostControl({
      hostId: opts.hostId,
      bus: opts.bus,
      store: opts.store,
      hosts: opts.hosts,
      owners: opts.owners,
      eventLog: opts.eventLog,
      config,
      logger: this.#logger,
      metrics: hostMetrics(m).mesh,
      load: () => ({ loadedThreads: this.#registry.size, activeTurns: this.#activeTurns, ...this.#pace.load(), draining: this.#state === "draining" || this.#state === "stopped" }),
      onLapse: () => {
        hostMetrics(m).leaseLapses.inc();
        for (const actor of this.#registry.all()) actor.drop();
      },
      onLost: (tenant, threadId) => this.#registry.get(tenant, threadId)?.drop(),
      holds: (tenant, threadId) =>
        this.#registry.get(tenant, threadId) !== undefined || this.#registry.loading(tenant, threadId) !== undefined || this.#registry.isCreating(tenant, threadId),
      adoptOrphan: async (tenant, threadId) => {
        if (this.#state === "running" && !this.#registry.get(tenant, threadId)) await this.#loadStored(tenant, threadId, true);
      },
    });
    this.#services = {
      hostId: opts.hostId,
      bus: opts.bus,
      store: opts.store,
      model: leaseGuardedModel(new MeteredModel(opts.modelClient ?? new LazyResponsesModel(modelConfig), hostMetrics(m), (ms) => this.#pace.firstToken(ms)), () => this.#control.leaseValid()),
      admission: opts.admission ?? null,
      turnCapacity: new TurnCapacity({
        maxTurns: config.maxTurns,
        lagBudgetMs: config.turnLagBudgetMs,
        retryAfterMs: config.heartbeatIntervalMs,
        activeTurns: () => this.#activeTurns,
        eventLoopLagMs: () => this.#control.sustainedLagMs,
      }),
      deltaLinger: config.deltaLingerMs > 0 ? new DeltaLinger(config.deltaLingerMs) : null,
      config,
      modelConfig,
      telemetry,
      logger: this.#logger,
      bwrapPath: config.bwrapPath === null ? null : findBwrap(config.bwrapPath),
      get draining() {
        return host.#state !== "running";
      },
      ownership: this.#control.ownership,
      handsOver: () => this.#state !== "running" && this.#control.beginShutdown(),
      leaseValid: () => this.#control.leaseValid(),
      unloaded: (tenant, threadId) => {
        this.#registry.remove(tenant, threadId);
        return this.#control.unloaded(tenant, threadId);
      },
      dropped: (tenant, threadId) => {
        this.#registry.remove(tenant, threadId);
        this.#control.ownership.forget(tenant, threadId);
      },
      redispatch: (tenant, env, msg) => void this.#dispatchThread(tenant, env, msg),
      turnsActive: (delta) => {
        this.#activeTurns += delta;
        if (delta > 0) this.#pace.started();
        turnsActive.set(this.#activeTurns);
        if (this.#activeTurns === 0) for (const w of this.#turnsIdle.splice(0)) w();
      },
      turnEnded: (durationMs) => this.#pace.ended(durationMs),
      commandReceived: (method) => commands.inc({ method }),
      recentEvents: new RecentEventsBudget(RECENT_EVENTS_BYTES),
      policyCaps: opts.policyCaps ?? this.#tenantCaps?.lookup ?? configuredPolicyCaps(config.policyCaps),
      workspaceBounds: (tenant) => {
        let b = bounds.get(tenant);
        if (!b) bounds.set(tenant, (b = tenantBounds(config.workspaceRoot, tenant, config.confineWorkspaces)));
        return b;
      },
    };
    this.#registry = new ThreadRegistry(this.#services, () => threadsLoaded.set(this.#registry.size));
    this.#quota = new TenantQuota(this.#registry, config.limitsFor);
  }

  /** Creates a host and starts taking placement requests. */
  static async create(opts: SessionHostOptions): Promise<SessionHost> {
    const host = new SessionHost(opts);
    await host.#control.start((msg) => host.#onPlace(msg));
    host.#placeSub = opts.bus.subscribe(PLACE_WILDCARD, (msg) => host.#onPlace(msg), { queue: HOST_QUEUE_GROUP });
    host.#state = "running";
    host.#logger.info({ bwrap: host.#services.bwrapPath }, "session host running");
    // Checked at start-up, not only at the first command: an operator learns at once that sandboxed
    // commands will be refused (they fail closed either way), without holding start-up for it.
    const bwrap = host.#services.bwrapPath;
    if (bwrap !== null) {
      probeSandbox(bwrap).then(
        () => host.#logger.info({ bwrap }, "sandbox probe passed"),
        (err: unknown) => host.#logger.error({ bwrap }, (err as Error).message),
      );
    }
    return host;
  }

  get state(): HostState {
    return this.#state;
  }

  /** Number of threads this host holds. */
  get loadedThreads(): number {
    return this.#registry.size;
  }

  /**
   * Stops intake (no more placements, no new turns) and waits up to `deadlineMs` milliseconds for
   * running turns to finish. Turns still running then are handed over as on a crash when another live
   * host can adopt their threads (see {@link ThreadActor.handOver}: it continues them from their last
   * safe point or ends them interrupted), else interrupted here; either waits at most `settleMs`
   * (default {@link DEFAULT_SETTLE_MS}) more for their writes. Other loaded threads stay served
   * (approvals, interrupts, reads) until {@link close}.
   */
  async drain(opts: { deadlineMs: number; settleMs?: number }): Promise<void> {
    if (this.#state !== "running") return;
    const deadlineAt = Date.now() + Math.max(0, opts.deadlineMs);
    this.#state = "draining";
    this.#placeSub?.unsubscribe();
    this.#placeSub = null;
    await settleWithin(this.#control.beat(), deadlineAt - Date.now());
    if (this.#activeTurns > 0) await settleWithin(new Promise<void>((resolve) => this.#turnsIdle.push(resolve)), deadlineAt - Date.now());
    const running = this.#registry.all().filter((a) => a.turn !== null);
    if (running.length === 0) return;
    const handOver = this.#control.beginShutdown();
    this.#logger.info({ turns: running.length, handOver }, handOver ? "drain deadline: handing running turns over to another host" : "drain deadline: interrupting running turns");
    const ending = running.map((a) => (handOver ? a.handOver() : a.turn ? a.endTurn(a.turn, { status: "interrupted" }) : undefined));
    if (!(await settleWithin(Promise.all(ending), opts.settleMs ?? DEFAULT_SETTLE_MS))) {
      this.#logger.warn({ turns: running.length }, "drain: stopped waiting for the writes of the turns it ended; adopters recover them from the event window");
    }
  }

  /**
   * Unloads every thread and stops. When another live host can adopt them, the threads are handed over
   * (their owner entries released, clients stay subscribed, the next command moves them; a turn still
   * running goes on there or ends interrupted); otherwise they are announced `notLoaded` and
   * `thread/closed`. Waits at most `withinMs` (default {@link DEFAULT_CLOSE_WITHIN_MS}) for the threads'
   * writes and owner entries: past it, this host's entry is removed all the same, so that other hosts
   * adopt the rest as after a crash. Idempotent.
   */
  close(opts: { withinMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(Date.now() + (opts.withinMs ?? DEFAULT_CLOSE_WITHIN_MS));
    return this.#closing;
  }

  async #close(doneBy: number): Promise<void> {
    if (this.#state === "running") this.#state = "draining";
    this.#placeSub?.unsubscribe();
    this.#placeSub = null;
    const handOver = this.#control.beginShutdown();
    const actors = this.#registry.all();
    // Most of the time goes to unloading; removing this host's entry gets the rest.
    const unloadBy = doneBy - Math.min(500, (doneBy - Date.now()) / 4);
    const unloads = Promise.all(actors.map((a) => (handOver ? a.handOver() : this.#unloadForShutdown(a))));
    if (!(await settleWithin(unloads, unloadBy - Date.now()))) {
      this.#logger.warn({ threads: this.#registry.size, of: actors.length }, "close: stopped waiting for threads to unload; other hosts adopt them as after a crash");
    }
    await this.#control.stop(Math.max(0, doneBy - Date.now()));
    this.#state = "stopped";
    this.#logger.info("session host stopped");
  }

  async #unloadForShutdown(actor: ThreadActor): Promise<void> {
    actor.setStatus({ type: "notLoaded" });
    actor.events.notify("thread/closed", { threadId: actor.threadId }, true);
    await actor.unload();
  }

  #onPlace(msg: BusMessage): void {
    const tenant = msg.subject.split(".")[2] ?? "";
    const env = decodeCommand(msg, this.#logger);
    if (!env) return;
    const refusal = this.#control.refusal(env.method, this.#registry.size, this.#state === "running");
    if (refusal) {
      replyError(msg, refusal, this.#logger);
      return;
    }
    const config = this.#services.config;
    if (this.#serving >= config.maxConcurrentCommands && !env.method.startsWith(MESH_PREFIX)) {
      replyError(msg, new OverloadedError(config.overloadRetryAfterMs, HOST_BUSY), this.#logger);
      return;
    }
    // Read late (a busy loop, a long bus queue): its sender has answered the client already.
    const late = deadlineRefusal(env, config.overloadRetryAfterMs);
    if (late !== null) {
      replyError(msg, late, this.#logger);
      return;
    }
    this.#services.commandReceived(env.method);
    const traced = new TracedCommand(msg, env, tenant, this.#services.telemetry.tracer);
    this.#serving++;
    void context.with(traced.context, () => this.#prepared(tenant, env, traced)).finally(() => this.#serving--);
  }

  /** Serves a placement-group command once the tenant's policy caps are read (when they come from the store). */
  async #prepared(tenant: string, env: CommandEnvelope, msg: BusMessage): Promise<void> {
    if (this.#tenantCaps !== null && !env.method.startsWith(MESH_PREFIX)) {
      try {
        await this.#tenantCaps.prepare(tenant);
      } catch (err) {
        this.#logger.error({ err, tenant }, "reading the tenant's policy limits failed");
        replyError(msg, new InternalError("the tenant's policy could not be read; retry"), this.#logger);
        return;
      }
    }
    return this.#place(tenant, env, msg);
  }

  #place(tenant: string, env: CommandEnvelope, msg: BusMessage): Promise<void> {
    switch (env.method) {
      case "thread/start":
        return serve(msg, this.#logger, () => this.#withQuota(tenant, env, () => startThread(this.#services, this.#registry, tenant, env.params as never, env.origin)));
      case "thread/fork":
        return serve(msg, this.#logger, () => this.#withQuota(tenant, env, () => forkThread(this.#services, this.#registry, tenant, env.params as never, env.origin)));
      case "thread/list":
        return serve(msg, this.#logger, () => listThreads(this.#services, this.#registry, tenant, env.params as never, env.origin));
      case "thread/search":
      case "thread/search/stream":
        return serve(msg, this.#logger, () => searchThreads(this.#services, this.#registry, tenant, env.params as never, env.origin));
      case "thread/loaded/list":
        return serve(msg, this.#logger, () => listLoaded(this.#registry, tenant, (env.params ?? {}) as never, env.origin));
      default:
        return this.#dispatchThread(tenant, env, msg);
    }
  }

  /** A thread-routed command that reached this host through placement (or after its actor unloaded). */
  async #dispatchThread(tenant: string, env: CommandEnvelope, msg: BusMessage): Promise<void> {
    const threadId = (env.params as { threadId?: unknown } | null)?.threadId;
    if (typeof threadId !== "string") {
      replyError(msg, new InvalidParamsError("Invalid params: missing field `threadId`"), this.#logger);
      return;
    }
    let actor: ThreadActor | null | undefined;
    try {
      actor = await this.#holder(tenant, threadId);
      if (!actor) {
        const route = await this.#control.route(tenant, threadId, env.method, this.#state === "running");
        if (route.kind === "forward") return this.#control.forward(msg, tenant, route.hostId);
        if (route.kind === "load") actor = await this.#loadStored(tenant, threadId, route.adopt, env.origin);
      }
    } catch (err) {
      replyError(msg, err, this.#logger);
      return;
    }
    if (actor && !actor.closed) actor.enqueue(env, msg);
    else await serve(msg, this.#logger, () => serveUnloaded(this.#services, tenant, env));
  }

  /**
   * Runs a command that loads a new thread of `tenant` within the tenant's quota of loaded threads; one
   * that reached its deadline while it waited for the quota creates nothing.
   */
  async #withQuota<R>(tenant: string, env: CommandEnvelope, run: () => Promise<R>): Promise<R> {
    const release = await this.#quota.admit(tenant);
    try {
      const late = deadlineRefusal(env, this.#services.config.overloadRetryAfterMs);
      if (late !== null) throw late;
      return await run();
    } finally {
      release();
    }
  }

  /** The actor holding a thread once any load or unload in progress has settled; undefined when none. */
  async #holder(tenant: string, threadId: string): Promise<ThreadActor | undefined> {
    const actor = this.#registry.get(tenant, threadId) ?? (await this.#registry.loading(tenant, threadId)) ?? undefined;
    if (!actor?.closed) return actor;
    // Unloading: let it store everything before the thread is served from the store or loaded again.
    await actor.unload();
    return undefined;
  }

  /**
   * Loads a stored thread, announcing it as `idle`: for `thread/resume`, or to adopt it (`adopt`) from a
   * host that lapsed or released it. Null when it cannot be loaded (resume needs a materialized thread).
   */
  #loadStored(tenant: string, threadId: string, adopt: boolean, origin?: Origin): Promise<ThreadActor | null> {
    if (this.#state !== "running") return Promise.reject(new OverloadedError(DRAINING_RETRY_AFTER_MS, "serverShuttingDown", "Server is draining; retry shortly"));
    let state: LoadedThreadState | null = null;
    return this.#registry.load(
      tenant,
      threadId,
      async () => {
        await this.#tenantCaps?.prepare(tenant);
        const record = await this.#services.store.getThread(tenant, threadId);
        if (!record || record.archived || (!adopt && (!record.materialized || record.ephemeral || !canSee(record, origin)))) return null;
        // Adopting a thread whose owner was lost is never refused; a resume counts against the quota.
        const release = adopt ? undefined : await this.#quota.admit(tenant);
        try {
          state = await this.#control.claimStored(tenant, record, adopt);
        } finally {
          release?.();
        }
        return state;
      },
      (actor) => {
        const ended = state?.abandonedTurn;
        if (ended) actor.logger[ended.status === "completed" ? "info" : "warn"]({ turnId: ended.id, status: ended.status, reason: state?.abandonReason, adopt }, "a turn its previous owner left running ends here");
        announceLoaded(actor, state?.abandonedTurn, state?.orphanedRequests, state?.continuedTurn ?? null);
      },
    );
  }
}
