import { MemoryHostRegistry, MemoryOwnerLeases, type Bus, type BusMessage, type EventLog, type HostRegistry, type OwnerLeases, type Subscription } from "@threadmesh/mesh";
import type { ThreadRecord, ThreadStore } from "@threadmesh/persistence";
import { MeshMethod, OverloadedError, PlacementRefusal, hostSubject, hostWildcard, placementRefusal, type RpcError } from "@threadmesh/protocol";
import { context, traceHeaders, type HostMeshMetrics, type Logger } from "@threadmesh/telemetry";
import { replyError } from "./command-outcome.ts";
import type { HostConfig } from "./config.ts";
import { HostHeartbeat } from "./host-heartbeat.ts";
import { HostOwnership } from "./host-ownership.ts";
import { OrphanSweeper } from "./orphan-sweeper.ts";
import { hasRunningTurn } from "./running-turn.ts";
import { settleWithin } from "./settle-within.ts";
import { HOST_STOPPED_ERROR, claimStoredThread, type LoadedThreadState } from "./thread-loader.ts";

/** Longest wait for the owner of a thread when this host passes a command on to it, in ms. */
const FORWARD_TIMEOUT_MS = 10_000;

/** What to do with a command for a thread this host does not hold. */
export type UnheldRoute =
  /** A live host holds the thread: pass the command on. */
  | { kind: "forward"; hostId: string }
  /** Load the thread here; `adopt` when it was loaded elsewhere (its owner lapsed or released it). */
  | { kind: "load"; adopt: boolean }
  /** Nobody holds the thread: answer from the store. */
  | { kind: "store" };

export interface HostControlOptions {
  hostId: string;
  bus: Bus;
  store: ThreadStore;
  /** Default: a registry of this process only (embedded mode). */
  hosts?: HostRegistry;
  /** Default: owner entries of this process only (embedded mode). */
  owners?: OwnerLeases;
  /** Where an adopting host finds the last seq the previous owner published, and whether a turn was running. */
  eventLog?: EventLog | undefined;
  config: Readonly<HostConfig>;
  logger: Logger;
  metrics: HostMeshMetrics;
  /** Load to report in heartbeats. */
  load: () => { loadedThreads: number; activeTurns: number; draining: boolean; turnsStarted?: number; meanTurnMs?: number; modelTtftMs?: number };
  /** The lease lapsed: drop every thread. */
  onLapse: () => void;
  /** True while this host holds (or is loading) the thread. */
  holds: (tenant: string, threadId: string) => boolean;
  /** Another host took this thread over: drop it. */
  onLost: (tenant: string, threadId: string) => void;
  /** Loads a thread whose owner lapsed during a turn (see {@link OrphanSweeper}). */
  adoptOrphan: (tenant: string, threadId: string) => Promise<void>;
}

/**
 * A session host's part of the mesh control plane: its heartbeat and lease, its own request subject,
 * the owner entries of its threads, and the decisions that follow from them (refuse a placement,
 * adopt a thread whose owner lapsed, pass a command on to the live owner, hand threads over on shutdown).
 */
export class HostControl {
  readonly ownership: HostOwnership;
  readonly #opts: HostControlOptions;
  readonly #hosts: HostRegistry;
  readonly #owners: OwnerLeases;
  readonly #ownsHosts: boolean;
  readonly #ownsOwners: boolean;
  readonly #heartbeat: HostHeartbeat;
  readonly #sweeper: OrphanSweeper;
  #sub: Subscription | null = null;
  #handingOver = false;

  constructor(opts: HostControlOptions) {
    this.#opts = opts;
    this.#ownsHosts = opts.hosts === undefined;
    this.#ownsOwners = opts.owners === undefined;
    this.#hosts = opts.hosts ?? new MemoryHostRegistry();
    this.#owners = opts.owners ?? new MemoryOwnerLeases();
    this.ownership = new HostOwnership({ hostId: opts.hostId, leases: this.#owners, hosts: this.#hosts, logger: opts.logger });
    this.#heartbeat = new HostHeartbeat({
      hostId: opts.hostId,
      registry: this.#hosts,
      intervalMs: opts.config.heartbeatIntervalMs,
      load: () => ({ ...opts.load(), capacity: opts.config.maxThreads, turnCapacity: opts.config.maxTurns }),
      onLapse: opts.onLapse,
      stallMs: opts.config.leaseStallMs,
      logger: opts.logger,
    });
    this.#sweeper = new OrphanSweeper({
      hostId: opts.hostId,
      hosts: this.#hosts,
      owners: this.#owners,
      // Every heartbeat period: a dead owner's running turns are picked up at most that long after its lease ends.
      intervalMs: opts.config.heartbeatIntervalMs,
      hasRunningTurn: (tenant, threadId) => hasRunningTurn(opts.store, opts.eventLog, tenant, threadId),
      holds: opts.holds,
      adopt: opts.adoptOrphan,
      active: () => !this.#handingOver && this.#sub !== null && this.leaseValid(),
      logger: opts.logger,
    });
  }

  /** Follows hosts and owners, subscribes this host's subject and writes the first heartbeat. */
  async start(onRequest: (msg: BusMessage) => void): Promise<void> {
    await Promise.all([this.#hosts.start(), this.#owners.start()]);
    this.ownership.listen(this.#opts.onLost);
    this.#sub = this.#opts.bus.subscribe(hostWildcard(this.#opts.hostId), onRequest);
    await this.#opts.bus.flush();
    await this.#heartbeat.start();
    this.#sweeper.start();
  }

  /** True while this host's lease runs. */
  leaseValid(): boolean {
    return this.#heartbeat.valid();
  }

  /** How late the event loop runs its timers timer after timer, in ms (see {@link HostHeartbeat.sustainedLagMs}). */
  get sustainedLagMs(): number {
    return this.#heartbeat.sustainedLagMs;
  }

  /** Announces a change of load or state (draining) without waiting for the next beat. */
  beat(): Promise<void> {
    return this.#heartbeat.beat();
  }

  /** Why this host turns a request down, or null when it takes it. */
  refusal(method: string, loadedThreads: number, running: boolean): RpcError | null {
    const retryAfterMs = this.#opts.config.heartbeatIntervalMs;
    const placement = method === "thread/start" || method === "thread/fork";
    let refusal: PlacementRefusal | null = null;
    if (!this.leaseValid()) refusal = PlacementRefusal.LeaseLapsed;
    else if (placement && !running) refusal = PlacementRefusal.Draining;
    else if (placement && loadedThreads >= this.#opts.config.maxThreads) refusal = PlacementRefusal.AtCapacity;
    if (placement) this.#opts.metrics.placements.inc({ outcome: refusal === null ? "accepted" : "refused" });
    return refusal === null ? null : placementRefusal(refusal, retryAfterMs);
  }

  /** Where a command for a thread this host does not hold goes; see {@link UnheldRoute}. */
  async route(tenant: string, threadId: string, method: string, running: boolean): Promise<UnheldRoute> {
    // Notices only a holder acts on: never a reason to load or adopt the thread.
    if (method === MeshMethod.ConnectionClosed || method === MeshMethod.FlushThread) return { kind: "store" };
    const owner = await this.ownership.owner(tenant, threadId);
    if (owner && this.ownership.heldElsewhere(owner)) return { kind: "forward", hostId: owner.hostId };
    if (!owner && method !== "thread/resume") return { kind: "store" };
    if (!running) {
      const other = this.#otherHost();
      if (other !== undefined) return { kind: "forward", hostId: other };
    }
    return { kind: "load", adopt: owner !== undefined };
  }

  /** Passes a command on to another host's subject and relays its answer. */
  async forward(msg: BusMessage, tenant: string, hostId: string): Promise<void> {
    try {
      // This host's command span (the active context) parents the owner's.
      const trace = traceHeaders(context.active());
      const headers = trace === undefined ? msg.headers : { ...msg.headers, ...trace };
      const reply = await this.#opts.bus.request(hostSubject(tenant, hostId), msg.data, { timeoutMs: FORWARD_TIMEOUT_MS, headers });
      msg.respond(reply.data, reply.headers);
    } catch (err) {
      this.#opts.logger.warn({ err, hostId }, "command not passed on to the thread's owner");
      replyError(msg, new OverloadedError(this.#hosts.leaseTtlMs, "threadOwnerUnavailable", "the session host holding this thread is unavailable; retry later"), this.#opts.logger);
    }
  }

  /** Claims a stored thread (owner entry, then the store's epoch) and reads its state; `adopt` counts a takeover. */
  async claimStored(tenant: string, record: ThreadRecord, adopt: boolean): Promise<LoadedThreadState> {
    const epoch = await this.ownership.claim(tenant, record.id, record.ownerEpoch + 1);
    if (adopt) this.#opts.metrics.leaseTakeovers.inc();
    try {
      return await claimStoredThread(this.#opts.store, tenant, record, {
        abandonedTurnError: HOST_STOPPED_ERROR,
        epoch,
        eventLog: this.#opts.eventLog,
        recover: adopt,
        continueTurns: this.#opts.config.continueTurns,
      });
    } catch (err) {
      await this.ownership.release(tenant, record.id);
      throw err;
    }
  }

  /**
   * Decides how threads leave at shutdown: handed over (entries released, clients stay subscribed)
   * when another live host can adopt them, else unloaded and announced closed. True for handing over;
   * once true it stays so, as threads may already have been handed over.
   */
  beginShutdown(): boolean {
    this.#handingOver ||= this.#otherHost() !== undefined;
    return this.#handingOver;
  }

  /** A thread finished unloading: give its owner entry back. */
  unloaded(tenant: string, threadId: string): Promise<void> {
    return this.#handingOver ? this.ownership.handOver(tenant, threadId) : this.ownership.release(tenant, threadId);
  }

  /**
   * Stops heartbeating and removes this host's entry, so that routers stop sending to it and other
   * hosts adopt the threads it still names at once. Waits at most `withinMs` for the removal: without
   * it the entry lapses one lease later.
   */
  async stop(withinMs = Infinity): Promise<void> {
    this.#sub?.unsubscribe();
    this.#sub = null;
    // No heartbeat may follow the removal of this host's entry.
    await settleWithin(this.#heartbeat.stop(), withinMs);
    this.#sweeper.stop();
    this.ownership.stop();
    const removed = this.#hosts.remove(this.#opts.hostId).catch((err: unknown) => this.#opts.logger.warn({ err }, "host entry not removed"));
    if (!(await settleWithin(removed, withinMs))) this.#opts.logger.warn({ withinMs }, "host entry not removed in time; it lapses with its lease");
    if (this.#ownsHosts) await this.#hosts.close();
    if (this.#ownsOwners) await this.#owners.close();
  }

  #otherHost(): string | undefined {
    const others = this.#hosts.live().filter((h) => h.hostId !== this.#opts.hostId && !h.draining);
    return others[Math.floor(Math.random() * others.length)]?.hostId;
  }
}
