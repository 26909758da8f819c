/** A callback due at a point in time (`performance.now()` ms). */
export interface ClockEntry {
  readonly due: number;
  readonly fn: () => void;
  /** Position in the heap; -1 once it ran or was cancelled. */
  index: number;
}

/**
 * One timer for every paced stream of the process: callbacks wait in a min-heap by due time and all
 * those due within `slackMs` run from the same wake. At model speed a thousand streams each writing a
 * delta every 20 ms cost one timer wake per millisecond, not one timer, promise and abort listener per
 * delta each.
 */
export class StreamClock {
  readonly #heap: ClockEntry[] = [];
  readonly #slackMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due; Infinity when none is. */
  #timerAt = Infinity;
  /** True during a wake, which arms the timer for what is left once it is done. */
  #running = false;
  readonly #wake = (): void => this.#run();

  /** Callbacks due less than `slackMs` from a wake run in it (a pacing sleep shorter than that is skipped). */
  constructor(slackMs: number) {
    this.#slackMs = slackMs;
  }

  /** Number of callbacks waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Runs `fn` once `due` (a `performance.now()` time) has come. */
  schedule(due: number, fn: () => void): ClockEntry {
    const e: ClockEntry = { due, fn, index: this.#heap.length };
    this.#heap.push(e);
    this.#up(e.index);
    if (due < this.#timerAt && !this.#running) this.#arm(due);
    return e;
  }

  /** Forgets an entry that has not run yet; nothing happens for one that has. */
  cancel(e: ClockEntry): void {
    const i = e.index;
    if (i < 0) return;
    e.index = -1;
    const last = this.#heap.pop()!;
    if (last !== e) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    if (this.#heap.length === 0 && !this.#running) this.#disarm();
  }

  #arm(due: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = due;
    this.#timer = setTimeout(this.#wake, Math.max(0, due - performance.now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const heap = this.#heap;
    const until = performance.now() + this.#slackMs;
    this.#running = true;
    try {
      // Entries scheduled by the callbacks for `until` or earlier run in this wake too.
      while (heap.length > 0 && heap[0]!.due < until) {
        const e = heap[0]!;
        const last = heap.pop()!;
        if (last !== e) {
          heap[0] = last;
          last.index = 0;
          this.#down(0);
        }
        e.index = -1;
        e.fn();
      }
    } finally {
      this.#running = false;
      if (heap.length > 0) this.#arm(heap[0]!.due);
    }
  }

  #up(i: number): void {
    const heap = this.#heap;
    const e = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.due <= e.due) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.due < heap[l]!.due ? r : l;
      const child = heap[c]!;
      if (child.due >= e.due) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}
