import type { BusHeaders } from "@threadmesh/mesh";
import { seqRange } from "@threadmesh/mesh";

/** One event as this host published it. */
export interface RecentEvent {
  readonly subject: string;
  readonly headers: BusHeaders;
  readonly data: Uint8Array;
}

/** Bytes of recent events every thread of a host may keep together. */
export class RecentEventsBudget {
  used = 0;
  constructor(readonly maxBytes: number) {}
}

/** Per thread: the newest events kept, by count and by bytes. */
const MAX_EVENTS = 512;
const MAX_BYTES = 256 * 1024;

/**
 * The newest events a thread's owner published, kept so that a router whose bus connection lost some
 * (and whose event log did not capture them either: core publishes are at most once) can ask the owner
 * for them. Bounded per thread and across the host; past the host's budget a thread keeps none.
 */
export class RecentEvents {
  readonly #budget: RecentEventsBudget;
  #events: RecentEvent[] = [];
  #bytes = 0;

  constructor(budget: RecentEventsBudget) {
    this.#budget = budget;
  }

  add(e: RecentEvent): void {
    const size = e.data.length + 64;
    while (this.#events.length > 0 && (this.#events.length >= MAX_EVENTS || this.#bytes + size > MAX_BYTES)) this.#release(this.#events.shift()!);
    if (size > MAX_BYTES || this.#budget.used + size > this.#budget.maxBytes) {
      this.clear();
      return;
    }
    this.#events.push(e);
    this.#bytes += size;
    this.#budget.used += size;
  }

  /** Events whose last seq is above `afterSeq`, oldest first. */
  after(afterSeq: number): RecentEvent[] {
    return this.#events.filter((e) => (seqRange(e.headers)?.last ?? -Infinity) > afterSeq);
  }

  /** Gives every byte back to the host's budget (the thread unloads or changes owner). */
  clear(): void {
    this.#budget.used -= this.#bytes;
    this.#bytes = 0;
    this.#events = [];
  }

  #release(e: RecentEvent): void {
    const size = e.data.length + 64;
    this.#bytes -= size;
    this.#budget.used -= size;
  }
}
