/** A connection as the router-wide budget sees it. */
export interface BudgetMember {
  /** Bytes the connection holds now: its backlog, frames queued for this tick, its socket's buffer, events held while it joins a thread. */
  outboundBytes(): number;
  /** Closes the connection as a slow consumer because the router as a whole holds too much. */
  shedForTotal(): void;
}

/** Shortest time between two passes over every connection when the count says the cap is passed. */
const RECHECK_MS = 100;

/**
 * The router's outbound memory: every byte waiting to go to a client, over all connections, counted
 * as it is queued and released (`tm_router_outbound_bytes`). When the count passes `capBytes`, one pass
 * (after the current tick) measures each connection and closes the ones holding the most until the
 * rest fit under the cap. Bytes of connections already closing count until their sockets are gone,
 * but never make another connection close.
 */
export class OutboundBudget {
  readonly capBytes: number;
  #total = 0;
  readonly #members = new Set<BudgetMember>();
  #scheduled = false;
  #notBefore = 0;
  readonly #run = (): void => this.#enforce();

  constructor(capBytes: number) {
    this.capBytes = capBytes;
  }

  /** Bytes counted now. */
  get total(): number {
    return this.#total;
  }

  join(m: BudgetMember): void {
    this.#members.add(m);
  }

  leave(m: BudgetMember): void {
    this.#members.delete(m);
  }

  /** Counts `bytes` more (or fewer, when negative). */
  add(bytes: number): void {
    this.#total += bytes;
    if (this.#total > this.capBytes && !this.#scheduled) {
      this.#scheduled = true;
      const wait = this.#notBefore - Date.now();
      if (wait > 0) setTimeout(this.#run, wait).unref();
      else setImmediate(this.#run);
    }
  }

  #enforce(): void {
    this.#scheduled = false;
    if (this.#total <= this.capBytes) return;
    const sizes: Array<{ m: BudgetMember; bytes: number }> = [];
    let live = 0;
    for (const m of this.#members) {
      const bytes = m.outboundBytes();
      live += bytes;
      if (bytes > 0) sizes.push({ m, bytes });
    }
    if (live > this.capBytes) {
      sizes.sort((a, b) => b.bytes - a.bytes);
      for (const s of sizes) {
        if (live <= this.capBytes) break;
        live -= s.bytes;
        s.m.shedForTotal();
      }
    }
    this.#notBefore = Date.now() + RECHECK_MS;
  }
}
