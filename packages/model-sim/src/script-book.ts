import type { SimResponse } from "./sim-response.ts";

/** The key whose queue answers requests that have no queue of their own (and requests without a key). */
export const DEFAULT_SCRIPT_KEY = "*";

/** Per-key FIFO queues of scripted responses. */
export class ScriptBook {
  readonly #queues = new Map<string, SimResponse[]>();

  /** Appends to the queue for `key`; returns that queue's new length. */
  append(key: string, responses: readonly SimResponse[]): number {
    let q = this.#queues.get(key);
    if (!q) {
      q = [];
      this.#queues.set(key, q);
    }
    q.push(...responses);
    return q.length;
  }

  /** Pops the next response for `key`, else from the default queue; `undefined` when both are empty. */
  take(key: string): SimResponse | undefined {
    return this.#pop(key) ?? (key === DEFAULT_SCRIPT_KEY ? undefined : this.#pop(DEFAULT_SCRIPT_KEY));
  }

  clear(): void {
    this.#queues.clear();
  }

  #pop(key: string): SimResponse | undefined {
    const q = this.#queues.get(key);
    if (!q) return undefined;
    const r = q.shift();
    // Empty queues are removed so keys used once by load tests do not accumulate.
    if (q.length === 0) this.#queues.delete(key);
    return r;
  }
}
