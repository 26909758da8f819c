/** Length of one of the two windows the peak lag is the largest of, in ms. */
const WINDOW_MS = 500;
/** History of the sustained lag, in ms. */
const SUSTAINED_MS = 2_000;
/** Fewest timer observations in {@link SUSTAINED_MS} for a sustained lag: one late timer is a stall, not load. */
const MIN_OBSERVATIONS = 3;
/** Observations kept (a timer every 100 ms fills 20 in {@link SUSTAINED_MS}). */
const RING = 32;

/**
 * Event-loop lag from the delays of a periodic timer, read two ways:
 * - {@link lagMs}: the largest delay in the current and the previous window (0.5 to 1 s of history),
 *   so one late timer shows for a while and a loop that caught up reads 0 within a second;
 * - {@link sustainedLagMs}: the median delay over the last 2 s, 0 with fewer than three observations,
 *   so a single stall (a long synchronous task, a pause) does not read as load while a loop that is
 *   late timer after timer does.
 */
export class LoopLag {
  #windowStart = 0;
  #current = 0;
  #previous = 0;
  readonly #at = new Float64Array(RING);
  readonly #delay = new Float64Array(RING);
  #next = 0;
  readonly #scratch: number[] = [];

  /** A timer due `delayMs` ago fired at `now`. */
  observe(now: number, delayMs: number): void {
    if (now - this.#windowStart >= WINDOW_MS) {
      // A window with no observation at all (the loop was that busy) leaves nothing behind.
      this.#previous = now - this.#windowStart >= 2 * WINDOW_MS ? 0 : this.#current;
      this.#current = 0;
      this.#windowStart = now;
    }
    this.#current = Math.max(this.#current, delayMs);
    this.#at[this.#next] = now;
    this.#delay[this.#next] = delayMs;
    this.#next = (this.#next + 1) % RING;
  }

  get lagMs(): number {
    return Math.max(this.#current, this.#previous);
  }

  /** The median delay of the observations of the last 2 s; 0 with fewer than three. */
  sustainedLagMs(now = Date.now()): number {
    const recent = this.#scratch;
    recent.length = 0;
    for (let i = 0; i < RING; i++) if (this.#at[i]! > 0 && now - this.#at[i]! <= SUSTAINED_MS) recent.push(this.#delay[i]!);
    if (recent.length < MIN_OBSERVATIONS) return 0;
    recent.sort((a, b) => a - b);
    return recent[recent.length >> 1]!;
  }
}
