import type { KeptLoad, LeaseKeeper, LeaseKeeperOptions } from "./lease-keeper.ts";

/** Time between two heartbeats of a session host, in ms. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
/** A host whose last heartbeat is older than this is dead, in ms. */
export const DEFAULT_LEASE_TTL_MS = 3_000;

/** What a session host reports with every heartbeat. */
export interface HostLoad {
  hostId: string;
  loadedThreads: number;
  activeTurns: number;
  /** Threads the host takes at most (`maxThreads`). */
  capacity: number;
  /** Turns the host runs at once at most; 0 or absent when only `capacity` bounds it. */
  turnCapacity?: number;
  /** How late the host's last heartbeat timer fired, in ms: a busy event loop. */
  eventLoopLagMs: number;
  /** Turns the host has started since it came up (a counter: its rate is the host's rate of new turns). */
  turnsStarted?: number;
  /** Moving average of how long the host's turns last, in ms. */
  meanTurnMs?: number;
  /** Moving average of the model's time to first token on this host, in ms. */
  modelTtftMs?: number;
  /** The host takes no new placements (shutting down). */
  draining: boolean;
  /** When the host wrote this entry, in ms since the epoch (the host's clock). */
  at: number;
}

/**
 * Live session hosts and their load. Hosts write their own entry (`heartbeat`); every process keeps a
 * watched copy in memory, so liveness and placement decisions never wait for the store.
 */
export interface HostRegistry {
  readonly leaseTtlMs: number;
  /**
   * True when every user of the registry runs in this process: a stalled event loop stalls them all,
   * so a sole host cannot lose its threads to another while it stalls.
   */
  readonly processLocal: boolean;
  /** Starts watching; resolves once the entries stored so far are in the cache. */
  start(): Promise<void>;
  /** Stores this host's entry; resolves once it is stored (the host's lease then runs from `load.at`). */
  heartbeat(load: HostLoad): Promise<void>;
  /** Deletes a host's entry (clean shutdown): it is dead for everyone at once. */
  remove(hostId: string): Promise<void>;
  get(hostId: string): HostLoad | undefined;
  /** True while the host's last heartbeat is younger than the lease. */
  isAlive(hostId: string, now?: number): boolean;
  /** When the host's lease ends, in ms since the epoch; 0 when it is unknown. */
  expiresAt(hostId: string): number;
  /** Hosts whose lease runs. */
  live(now?: number): HostLoad[];
  /**
   * Keeps a host's lease from a worker thread with a connection of its own (see {@link LeaseKeeper});
   * absent where heartbeats cannot leave the process's event loop (one process, no NATS servers known).
   */
  keepLease?(opts: KeepLeaseOptions, first: KeptLoad): Promise<LeaseKeeper>;
  close(): Promise<void>;
}

export type KeepLeaseOptions = Pick<LeaseKeeperOptions, "hostId" | "intervalMs" | "selfLeaseMs" | "stallMs" | "onBeatFailed">;
