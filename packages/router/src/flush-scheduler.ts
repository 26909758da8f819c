/** Something with queued output to write once per tick. Returns how many frames it wrote. */
export interface Flushable {
  flush(): number;
}

/**
 * Collects links with queued frames and flushes them all from one `setImmediate`, after the current
 * burst of bus deliveries and I/O callbacks. Batching per tick is what makes the relay cheap: a corked
 * write of many frames costs a fraction of one write per frame.
 */
export class FlushScheduler {
  #dirty: Flushable[] = [];
  #spare: Flushable[] = [];
  #scheduled = false;
  readonly #onFlushed: (frames: number) => void;
  readonly #run = (): void => this.#flushAll();

  /** `onFlushed` receives the number of frames written in each round. */
  constructor(onFlushed: (frames: number) => void) {
    this.#onFlushed = onFlushed;
  }

  /** Flushes `link` at the end of this tick. The caller schedules a link at most once per round. */
  schedule(link: Flushable): void {
    this.#dirty.push(link);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  #flushAll(): void {
    this.#scheduled = false;
    const list = this.#dirty;
    // Double-buffered so that links scheduled during this round land in the next one.
    this.#dirty = this.#spare;
    let frames = 0;
    for (let i = 0; i < list.length; i++) frames += (list[i] as Flushable).flush();
    list.length = 0;
    this.#spare = list;
    if (frames > 0) this.#onFlushed(frames);
  }
}
