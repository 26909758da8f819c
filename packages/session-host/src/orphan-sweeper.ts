import { ownerLapsed, type HostRegistry, type OwnerLeases } from "@threadmesh/mesh";
import type { Logger } from "@threadmesh/telemetry";

/** Threads adopted per sweep at most: a dead host's turns are picked up over a few sweeps, not in one burst. */
const MAX_PER_SWEEP = 50;

export interface OrphanSweeperOptions {
  hostId: string;
  hosts: HostRegistry;
  owners: OwnerLeases;
  intervalMs: number;
  /** True when the thread's owner stopped during a turn (see `hasRunningTurn`). */
  hasRunningTurn: (tenant: string, threadId: string) => Promise<boolean>;
  /** True while this host holds (or is loading) the thread. */
  holds: (tenant: string, threadId: string) => boolean;
  /** Loads the thread here, which ends the abandoned turn for its clients. */
  adopt: (tenant: string, threadId: string) => Promise<void>;
  /** False while this host should not take work (draining, lease lapsed). */
  active: () => boolean;
  logger: Logger;
}

/**
 * Adopts threads whose owner lapsed in the middle of a turn without waiting for a client command, so
 * their clients learn that the turn ended. Each orphan falls to one live host (a hash of the thread over
 * the live hosts); should two hosts disagree on the live set, the owner entry lets only one claim it.
 */
export class OrphanSweeper {
  readonly #opts: OrphanSweeperOptions;
  readonly #inFlight = new Set<string>();
  /**
   * Orphans found idle, by the owner epoch they were checked at: a lapsed owner publishes and stores
   * nothing more, so they are not read again each sweep (the next command adopts them).
   */
  #idle = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: OrphanSweeperOptions) {
    this.#opts = opts;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One pass; resolves with the number of threads it adopted. */
  async sweep(): Promise<number> {
    const o = this.#opts;
    if (!o.active()) return 0;
    const live = o.hosts.live().filter((h) => !h.draining).map((h) => h.hostId).sort();
    if (!live.includes(o.hostId)) return 0;
    const mine: Array<{ tenant: string; threadId: string; own: boolean; epoch: number }> = [];
    const idle = new Map<string, number>();
    for (const { tenant, threadId, entry } of o.owners.cachedEntries()) {
      const key = `${tenant}.${threadId}`;
      if (this.#inFlight.has(key)) continue;
      if (this.#idle.get(key) === entry.epoch) {
        idle.set(key, entry.epoch);
        continue;
      }
      if (entry.hostId === o.hostId) {
        // A thread this host let go of when its own lease lapsed (a long stall) while its entry still
        // names it: nobody else will see it as orphaned, so this host picks it up again.
        if (o.holds(tenant, threadId)) continue;
      } else if (!ownerLapsed(entry, o.hosts) || live[hash(key) % live.length] !== o.hostId) continue;
      if (mine.length < MAX_PER_SWEEP) mine.push({ tenant, threadId, own: entry.hostId === o.hostId, epoch: entry.epoch });
    }
    // Entries that moved or went are forgotten; the ones read idle this sweep join below.
    this.#idle = idle;
    let adopted = 0;
    for (const { tenant, threadId, own, epoch } of mine) {
      const key = `${tenant}.${threadId}`;
      this.#inFlight.add(key);
      try {
        // A thread this host dropped may have a turn its clients saw start that never reached the store.
        if (own || (await o.hasRunningTurn(tenant, threadId))) {
          await o.adopt(tenant, threadId);
          adopted++;
        } else idle.set(key, epoch);
      } catch (err) {
        o.logger.warn({ err, tenant, threadId }, "orphaned thread not adopted");
      } finally {
        this.#inFlight.delete(key);
      }
    }
    return adopted;
  }
}

/** FNV-1a: spreads thread keys evenly over the hosts. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
