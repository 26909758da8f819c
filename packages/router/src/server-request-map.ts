/** A server request as one connection knows it. */
export interface ServerRequestEntry {
  /** JSON-RPC id this connection got, from its own counter. */
  readonly id: number;
  readonly threadId: string;
  /** Host-assigned key, unique within the thread. */
  readonly requestKey: string;
  readonly method: string;
  /** The client answered; further answers to this id are ignored. */
  answered: boolean;
}

/**
 * Per-connection ids of the server requests relayed to one connection: ids count up from 0, map to the
 * host's request key both ways, and are forgotten when the request is resolved or the thread dropped.
 * Its size is bounded by the requests hosts keep pending for the threads the connection follows.
 */
export class ServerRequestMap {
  #nextId = 0;
  readonly #byId = new Map<number, ServerRequestEntry>();
  readonly #byKey = new Map<string, ServerRequestEntry>();

  /** Assigns the next id; undefined when this connection already holds the request. */
  add(threadId: string, requestKey: string, method: string): number | undefined {
    const k = keyOf(threadId, requestKey);
    if (this.#byKey.has(k)) return undefined;
    const entry: ServerRequestEntry = { id: this.#nextId++, threadId, requestKey, method, answered: false };
    this.#byId.set(entry.id, entry);
    this.#byKey.set(k, entry);
    return entry.id;
  }

  get(id: number): ServerRequestEntry | undefined {
    return this.#byId.get(id);
  }

  /** Removes and returns the entry for a resolved request. */
  take(threadId: string, requestKey: string): ServerRequestEntry | undefined {
    const k = keyOf(threadId, requestKey);
    const entry = this.#byKey.get(k);
    if (entry === undefined) return undefined;
    this.#byKey.delete(k);
    this.#byId.delete(entry.id);
    return entry;
  }

  /** The requests of one thread this connection holds, in issue order. */
  ofThread(threadId: string): ServerRequestEntry[] {
    return [...this.#byId.values()].filter((e) => e.threadId === threadId);
  }

  /** Forgets every request of a thread (the connection left it). */
  dropThread(threadId: string): void {
    for (const [id, e] of this.#byId) {
      if (e.threadId !== threadId) continue;
      this.#byId.delete(id);
      this.#byKey.delete(keyOf(e.threadId, e.requestKey));
    }
  }

  clear(): void {
    this.#byId.clear();
    this.#byKey.clear();
  }

  get size(): number {
    return this.#byId.size;
  }
}

function keyOf(threadId: string, requestKey: string): string {
  return `${threadId}\n${requestKey}`;
}
