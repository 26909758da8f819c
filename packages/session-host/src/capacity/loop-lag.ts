/** Length of one of the two windows the lag is the largest of, in ms. */
const WINDOW_MS = 500;

/**
 * Event-loop lag from the delays of a periodic timer: the largest delay seen in the current and the
 * previous window (between 0.5 and 1 s of history), so one late timer shows for a while and a loop
 * that caught up reads 0 within a second.
 */
export class LoopLag {
  #windowStart = 0;
  #current = 0;
  #previous = 0;

  /** A timer due `delayMs` ago fired at `now`. */
  observe(now: number, delayMs: number): void {
    if (now - this.#windowStart >= WINDOW_MS) {
      // A window with no observation at all (the loop was that busy) leaves nothing behind.
      this.#previous = now - this.#windowStart >= 2 * WINDOW_MS ? 0 : this.#current;
      this.#current = 0;
      this.#windowStart = now;
    }
    this.#current = Math.max(this.#current, delayMs);
  }

  get lagMs(): number {
    return Math.max(this.#current, this.#previous);
  }
}
