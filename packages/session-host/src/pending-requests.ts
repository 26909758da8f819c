import { nowSeconds, type PendingServerRequest, type RpcErrorShape } from "@threadmesh/protocol";
import { requestScope, type ServerRequestJournal } from "./server-request-journal.ts";
import type { ThreadEvents } from "./thread-events.ts";

/** How a server request ended: a client's result or error, or lifecycle cleanup (`cancelled`). */
export type ServerRequestAnswer =
  | { kind: "result"; result: unknown }
  | { kind: "error"; error: RpcErrorShape }
  | { kind: "cancelled" };

interface Entry {
  readonly method: string;
  readonly params: unknown;
  readonly resolve: (answer: ServerRequestAnswer) => void;
}

/**
 * Server requests pending on one thread. The first answer for a key wins: it publishes the resolution
 * (kind `x`) and then settles the waiter, so `serverRequest/resolved` always precedes whatever the
 * waiter emits next. Answers for unknown or already resolved keys are ignored. With a journal, each
 * request is stored when it is issued and removed when it is resolved, behind its event.
 */
export class PendingRequests {
  readonly #events: ThreadEvents;
  readonly #keyPrefix: string;
  readonly #journal: ServerRequestJournal | undefined;
  readonly #entries = new Map<string, Entry>();
  #counter = 0;

  /** `keyPrefix` keeps keys unique across owners of the thread (e.g. the owner epoch). */
  constructor(events: ThreadEvents, keyPrefix: string, journal?: ServerRequestJournal) {
    this.#events = events;
    this.#keyPrefix = keyPrefix;
    this.#journal = journal;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Publishes a server request and resolves with its answer. */
  request(method: string, params: unknown): Promise<ServerRequestAnswer> {
    const key = `${this.#keyPrefix}${this.#counter++}`;
    return new Promise((resolve) => {
      this.#entries.set(key, { method, params, resolve });
      this.#events.request(key, method, JSON.stringify(params));
      // `lastSeq` is now the request's own sequence number.
      this.#journal?.putServerRequest({ requestKey: key, ...requestScope(params), method, params, seq: this.#events.lastSeq, createdAt: nowSeconds() });
    });
  }

  /** Applies a client's answer; false when the key is not pending (already answered or unknown). */
  respond(key: string, answer: ServerRequestAnswer): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    this.#events.resolved(key, entry.method);
    this.#journal?.deleteServerRequest(key);
    entry.resolve(answer);
    return true;
  }

  /** Lifecycle cleanup: resolves every pending request (publishing each resolution) as `cancelled`. */
  cancelAll(): void {
    for (const key of [...this.#entries.keys()]) this.respond(key, { kind: "cancelled" });
  }

  /** Pending requests in issue order, to re-send to a resuming connection. */
  list(): PendingServerRequest[] {
    return [...this.#entries].map(([requestKey, e]) => ({ requestKey, method: e.method, params: e.params }));
  }
}
