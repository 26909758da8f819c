/** Items that waited too long: `expired` answers one instead of handling it (false: handle it anyway). */
export interface MailboxExpiry<T> {
  /** Longest wait of an item before it is handled, in ms. */
  readonly maxWaitMs: number;
  expired(item: T, waitedMs: number): boolean;
  /** Clock, in ms. Default `performance.now`. */
  readonly now?: () => number;
}

interface Queued<T> {
  readonly item: T;
  readonly at: number;
}

/**
 * A bounded FIFO served by one consumer at a time: items are handled strictly in arrival order, each
 * handler awaited before the next starts. `offer` never blocks; when the queue holds `capacity` items it
 * refuses, and the caller answers with an overload error. With an expiry, an item that waited longer
 * than `maxWaitMs` is passed to `expired` instead of the handler.
 */
export class Mailbox<T> {
  readonly #capacity: number;
  readonly #handle: (item: T) => Promise<void>;
  readonly #onError: (err: unknown) => void;
  readonly #expiry: MailboxExpiry<T> | undefined;
  readonly #now: () => number;
  #items: Array<Queued<T> | undefined> = [];
  #head = 0;
  #running = false;
  #idleWaiters: Array<() => void> = [];

  constructor(capacity: number, handle: (item: T) => Promise<void>, onError: (err: unknown) => void, expiry?: MailboxExpiry<T>) {
    this.#capacity = capacity;
    this.#handle = handle;
    this.#onError = onError;
    this.#expiry = expiry;
    this.#now = expiry?.now ?? (() => performance.now());
  }

  /** True while an item is being handled or waiting. */
  get busy(): boolean {
    return this.#running || this.size > 0;
  }

  /** Items waiting, not counting the one being handled. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Queues `item`; false when the mailbox is full. */
  offer(item: T): boolean {
    if (this.size >= this.#capacity) return false;
    this.#items.push({ item, at: this.#now() });
    if (!this.#running) void this.#drain();
    return true;
  }

  /** Resolves once nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (!this.#running && this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#head < this.#items.length) {
        const { item, at } = this.#items[this.#head]!;
        this.#items[this.#head] = undefined;
        this.#head++;
        if (this.#head > 64 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        try {
          const waited = this.#now() - at;
          if (this.#expiry !== undefined && waited > this.#expiry.maxWaitMs && this.#expiry.expired(item, waited)) continue;
          await this.#handle(item);
        } catch (err) {
          this.#onError(err);
        }
      }
    } finally {
      this.#items = [];
      this.#head = 0;
      this.#running = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
