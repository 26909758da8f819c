import { ownerLapsed, type HostRegistry, type OwnerLeases } from "@threadmesh/mesh";
import type { Logger } from "@threadmesh/telemetry";

/** Orphans one pass takes at most; a pass that made progress and left some is followed by another at once. */
const MAX_PER_PASS = 50;
/** Orphans checked and adopted at the same time: a dead host's turns are picked up a few at a time, not in one burst. */
const ADOPT_CONCURRENCY = 4;

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
    // A sweep still adopting when the next is due lets that one go.
    let sweeping = false;
    this.#timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      void this.sweep().finally(() => (sweeping = false));
    }, this.#opts.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Adopts every orphan this host is due to take, pass after pass; resolves with the number adopted. */
  async sweep(): Promise<number> {
    let adopted = 0;
    for (;;) {
      const pass = await this.#pass();
      adopted += pass.adopted;
      if (!pass.more || pass.settled === 0) return adopted;
    }
  }

  /** One pass over the owner entries: `settled` orphans were adopted or found idle; `more` were left for the next. */
  async #pass(): Promise<{ adopted: number; settled: number; more: boolean }> {
    const o = this.#opts;
    if (!o.active()) return { adopted: 0, settled: 0, more: false };
    const live = o.hosts.live().filter((h) => !h.draining).map((h) => h.hostId).sort();
    if (!live.includes(o.hostId)) return { adopted: 0, settled: 0, more: false };
    const mine: Array<{ tenant: string; threadId: string; own: boolean; epoch: number }> = [];
    const idle = new Map<string, number>();
    let more = false;
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
      if (mine.length < MAX_PER_PASS) mine.push({ tenant, threadId, own: entry.hostId === o.hostId, epoch: entry.epoch });
      else more = true;
    }
    // Entries that moved or went are forgotten; the ones read idle in this pass join below.
    this.#idle = idle;
    let adopted = 0;
    let settled = 0;
    const take = async ({ tenant, threadId, own, epoch }: (typeof mine)[number]): Promise<void> => {
      const key = `${tenant}.${threadId}`;
      this.#inFlight.add(key);
      try {
        // A thread this host dropped may have a turn its clients saw start that never reached the store.
        if (own || (await o.hasRunningTurn(tenant, threadId))) {
          await o.adopt(tenant, threadId);
          adopted++;
        } else idle.set(key, epoch);
        settled++;
      } catch (err) {
        o.logger.warn({ err, tenant, threadId }, "orphaned thread not adopted");
      } finally {
        this.#inFlight.delete(key);
      }
    };
    let next = 0;
    const worker = async () => {
      while (next < mine.length) await take(mine[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(ADOPT_CONCURRENCY, mine.length) }, worker));
    return { adopted, settled, more };
  }
}

/** FNV-1a: spreads thread keys evenly over the hosts. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
