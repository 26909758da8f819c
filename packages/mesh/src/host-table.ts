import type { HostLoad } from "./host-registry.ts";

interface Row {
  load: HostLoad;
  expiresAt: number;
}

/** Entries of dead hosts are forgotten after this many lease periods (hosts with random ids come and go). */
const FORGET_AFTER_LEASES = 20;

/**
 * The in-memory view of the host registry. An entry lives for one lease from the earlier of its own
 * timestamp and its arrival here, so neither a host's fast clock nor a slow watch extends a dead lease.
 */
export class HostTable {
  readonly #ttl: number;
  readonly #rows = new Map<string, Row>();

  constructor(leaseTtlMs: number) {
    this.#ttl = leaseTtlMs;
  }

  put(load: HostLoad, receivedAt = Date.now()): void {
    const expiresAt = Math.min(load.at, receivedAt) + this.#ttl;
    const prev = this.#rows.get(load.hostId);
    // Watches can deliver an older write after a newer local one; keep the newest.
    if (prev && prev.load.at > load.at) return;
    this.#rows.set(load.hostId, { load, expiresAt });
  }

  delete(hostId: string): void {
    this.#rows.delete(hostId);
  }

  get(hostId: string): HostLoad | undefined {
    return this.#rows.get(hostId)?.load;
  }

  expiresAt(hostId: string): number {
    return this.#rows.get(hostId)?.expiresAt ?? 0;
  }

  isAlive(hostId: string, now = Date.now()): boolean {
    const row = this.#rows.get(hostId);
    return row !== undefined && now < row.expiresAt;
  }

  live(now = Date.now()): HostLoad[] {
    const out: HostLoad[] = [];
    for (const [id, row] of this.#rows) {
      if (now < row.expiresAt) out.push(row.load);
      else if (now - row.expiresAt > FORGET_AFTER_LEASES * this.#ttl) this.#rows.delete(id);
    }
    return out;
  }
}
