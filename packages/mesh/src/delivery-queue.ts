/** Options of {@link DeliveryQueue}. */
export interface DeliveryQueueOptions<T> {
  /** Hands one item to its receiver; must not throw. */
  deliver(item: T): void;
  /** True for an item that settles a request (a reply), false for one that runs a handler. */
  isReply(item: T): boolean;
  /** Longest synchronous run of deliveries before the queue yields to timers and I/O; default 10,000. */
  maxPerTurn?: number;
}

const MAX_DELIVERIES_PER_TURN = 10_000;
/** Consumed slots at the front of the array are dropped once there are this many. */
const COMPACT_AFTER = 4_096;

interface Waiter {
  /** Resolve once this many items have been delivered. */
  target: number;
  resolve: () => void;
}

const IDLE = 0;
const SCHEDULED = 1;
const RUNNING = 2;
const YIELDING = 3;

/**
 * Delivers items one at a time in arrival order, never re-entrantly. After a reply has settled a
 * request, the next handler delivery waits for the next turn of the event loop (`setImmediate`), so the
 * requester's continuation — every microtask it chains — runs before the handler of any message that
 * arrived after the reply. Consecutive replies are settled together.
 */
export class DeliveryQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #state = IDLE;
  /** A reply was settled in this turn; handler deliveries wait for the next one. */
  #turnOwed = false;
  #enqueued = 0;
  #delivered = 0;
  #waiters: Waiter[] = [];
  readonly #deliver: (item: T) => void;
  readonly #isReply: (item: T) => boolean;
  readonly #maxPerTurn: number;
  readonly #scheduled = (): void => this.#drain();
  readonly #nextTurn = (): void => {
    this.#turnOwed = false;
    this.#drain();
  };

  constructor(opts: DeliveryQueueOptions<T>) {
    this.#deliver = opts.deliver;
    this.#isReply = opts.isReply;
    this.#maxPerTurn = opts.maxPerTurn ?? MAX_DELIVERIES_PER_TURN;
  }

  /** Queues an item; it is delivered from a microtask, never inside this call. */
  enqueue(item: T): void {
    this.#items.push(item);
    this.#enqueued++;
    if (this.#state === IDLE) {
      this.#state = SCHEDULED;
      queueMicrotask(this.#scheduled);
    }
  }

  /**
   * Delivers at once when nothing is queued or running, otherwise queues behind what is there. For
   * callers that are already asynchronous, like a socket read.
   */
  dispatch(item: T): void {
    this.#items.push(item);
    this.#enqueued++;
    if (this.#state === IDLE) this.#drain();
  }

  /** Resolves when every item queued so far has been delivered (or dropped by {@link clear}). */
  whenDelivered(): Promise<void> {
    if (this.#delivered === this.#enqueued) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ target: this.#enqueued, resolve }));
  }

  /** Drops everything queued; pending {@link whenDelivered} promises resolve. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#delivered = this.#enqueued;
    this.#settleWaiters();
  }

  #drain(): void {
    this.#state = RUNNING;
    let n = 0;
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head] as T;
      const reply = this.#isReply(item);
      if ((this.#turnOwed && !reply) || n === this.#maxPerTurn) {
        this.#yield();
        return;
      }
      this.#items[this.#head++] = undefined;
      this.#delivered++;
      n++;
      this.#deliver(item);
      if (reply) this.#turnOwed = true;
      if (this.#waiters.length > 0) this.#settleWaiters();
    }
    this.#items.length = 0;
    this.#head = 0;
    if (this.#turnOwed) this.#yield();
    else this.#state = IDLE;
  }

  #yield(): void {
    if (this.#head >= COMPACT_AFTER) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#state = YIELDING;
    setImmediate(this.#nextTurn);
  }

  #settleWaiters(): void {
    const w = this.#waiters;
    let i = 0;
    for (; i < w.length; i++) {
      const waiter = w[i] as Waiter;
      if (waiter.target > this.#delivered) break;
      waiter.resolve();
    }
    if (i > 0) w.splice(0, i);
  }
}
