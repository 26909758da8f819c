import {
  StaleEpochError,
  type HistoryRecord,
  type ItemRecord,
  type ServerRequestRecord,
  type ThreadRecord,
  type ThreadStore,
  type TurnRecord,
} from "@threadmesh/persistence";
import type { Logger } from "@threadmesh/telemetry";

type ThreadPatch = Partial<Omit<ThreadRecord, "tenantId" | "id">>;

/**
 * The owner's fenced writes for one thread, applied one after another in call order without making the
 * caller wait: events go out first, storage follows. `flush()` waits for everything issued so far (turn
 * end, unload). A rejected write is logged and does not stop later ones; a stale epoch marks the writer
 * `fenced` (another host took the thread over).
 */
export class ThreadWriter {
  readonly #store: ThreadStore;
  readonly #tenant: string;
  readonly #threadId: string;
  readonly #epoch: number;
  readonly #logger: Logger;
  readonly #onStaleEpoch: (() => void) | undefined;
  #chain: Promise<void> = Promise.resolve();
  /**
   * Writes issued during the current event-loop turn. They join the chain on the next turn (or at
   * `flush()`), so whatever the caller sends after issuing them — events, the model request — reaches
   * its socket before the store's queries compete with it.
   */
  #held: Array<{ op: string; write: () => Promise<void> }> = [];
  readonly #releaseHeld = (): void => this.#release();
  #fenced = false;
  #stopped = false;

  /** `onStaleEpoch`: called for every write rejected with StaleEpochError. */
  constructor(opts: { store: ThreadStore; tenant: string; threadId: string; epoch: number; logger: Logger; onStaleEpoch?: () => void }) {
    this.#store = opts.store;
    this.#tenant = opts.tenant;
    this.#threadId = opts.threadId;
    this.#epoch = opts.epoch;
    this.#logger = opts.logger;
    this.#onStaleEpoch = opts.onStaleEpoch;
  }

  /** Issues no more writes (those already issued still settle): the thread has another owner. */
  stop(): void {
    this.#stopped = true;
  }

  /** True once a write was rejected because a newer owner holds the thread. */
  get fenced(): boolean {
    return this.#fenced;
  }

  updateThread(patch: ThreadPatch): void {
    this.#enqueue("updateThread", () => this.#store.updateThread(this.#tenant, this.#threadId, this.#epoch, patch));
  }

  putTurn(turn: Omit<TurnRecord, "tenantId" | "threadId">): void {
    const row: TurnRecord = { tenantId: this.#tenant, threadId: this.#threadId, ...turn };
    this.#enqueue("putTurn", () => this.#store.putTurn(row, this.#epoch));
  }

  putItem(item: Omit<ItemRecord, "tenantId" | "threadId">): void {
    const row: ItemRecord = { tenantId: this.#tenant, threadId: this.#threadId, ...item };
    this.#enqueue("putItem", () => this.#store.putItem(row, this.#epoch));
  }

  appendHistory(entries: Array<Omit<HistoryRecord, "tenantId" | "threadId">>): void {
    if (entries.length === 0) return;
    const rows = entries.map((e) => ({ tenantId: this.#tenant, threadId: this.#threadId, ...e }));
    this.#enqueue("appendHistory", () => this.#store.appendHistory(rows, this.#epoch));
  }

  putServerRequest(request: Omit<ServerRequestRecord, "tenantId" | "threadId">): void {
    const row: ServerRequestRecord = { tenantId: this.#tenant, threadId: this.#threadId, ...request };
    this.#enqueue("putServerRequest", () => this.#store.putServerRequest(row, this.#epoch));
  }

  deleteServerRequest(requestKey: string): void {
    this.#enqueue("deleteServerRequest", () => this.#store.deleteServerRequest(this.#tenant, this.#threadId, requestKey, this.#epoch));
  }

  /** Resolves once every write issued so far has settled. */
  flush(): Promise<void> {
    this.#release();
    return this.#chain;
  }

  #enqueue(op: string, write: () => Promise<void>): void {
    if (this.#stopped) return;
    this.#held.push({ op, write });
    if (this.#held.length === 1) setImmediate(this.#releaseHeld);
  }

  /** Moves the held writes onto the chain, in order. */
  #release(): void {
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const { op, write } of held) this.#chain = this.#chain.then(write).catch((err: unknown) => this.#failed(op, err));
  }

  #failed(op: string, err: unknown): void {
    if (err instanceof StaleEpochError) {
      this.#fenced = true;
      this.#onStaleEpoch?.();
    }
    this.#logger.error({ err, op, threadId: this.#threadId }, "thread write failed");
  }
}
