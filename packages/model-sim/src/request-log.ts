import type { RecordedRequest } from "./model-sim.ts";

/** Requests kept per key; older ones are dropped first. */
export const DEFAULT_MAX_REQUESTS_PER_KEY = 1_000;
/** Keys remembered at once; the key least recently written is forgotten first, bounding memory under load. */
export const MAX_RECORDED_KEYS = 10_000;

/** Bounded, per-key, arrival-ordered record of model requests. */
export class RequestLog {
  readonly #perKey: number;
  readonly #byKey = new Map<string, RecordedRequest[]>();

  constructor(perKey: number = DEFAULT_MAX_REQUESTS_PER_KEY) {
    this.#perKey = Math.max(1, Math.floor(perKey));
  }

  add(rec: RecordedRequest): void {
    let list = this.#byKey.get(rec.key);
    if (list) {
      // Re-insert so Map order is least-recently-written first.
      this.#byKey.delete(rec.key);
    } else {
      list = [];
      if (this.#byKey.size >= MAX_RECORDED_KEYS) {
        const oldest = this.#byKey.keys().next();
        if (!oldest.done) this.#byKey.delete(oldest.value);
      }
    }
    this.#byKey.set(rec.key, list);
    list.push(rec);
    if (list.length > this.#perKey) list.splice(0, list.length - this.#perKey);
  }

  /** The most recent request for `key`. */
  latest(key: string): RecordedRequest | undefined {
    const list = this.#byKey.get(key);
    return list?.[list.length - 1];
  }

  /** Requests for `key` in arrival order, or every kept request in arrival order when `key` is omitted. */
  list(key?: string): RecordedRequest[] {
    if (key !== undefined) return [...(this.#byKey.get(key) ?? [])];
    const all: RecordedRequest[] = [];
    for (const l of this.#byKey.values()) all.push(...l);
    return all.sort((a, b) => a.seq - b.seq);
  }

  clear(): void {
    this.#byKey.clear();
  }
}
