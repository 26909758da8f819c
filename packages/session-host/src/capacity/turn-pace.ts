/** Weight of the newest observation in the moving averages. */
const ALPHA = 0.2;

/**
 * What this host reports in its heartbeats about the pace of its turns, for the routers' shedding:
 * turns started so far (a counter: routers derive the mesh's rate of new turns from it), a moving
 * average of how long a turn lasts, and one of the model's time to first token. Until a turn has
 * ended, a turn lasts at least as long as the first one has been running: that is reported instead.
 */
export class TurnPace {
  readonly #clock: () => number;
  #started = 0;
  #firstStartedAtMs: number | undefined;
  #meanTurnMs: number | undefined;
  #ttftMs: number | undefined;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  started(): void {
    this.#started++;
    this.#firstStartedAtMs ??= this.#clock();
  }

  ended(durationMs: number): void {
    if (!(durationMs >= 0)) return;
    this.#meanTurnMs = this.#meanTurnMs === undefined ? durationMs : this.#meanTurnMs + ALPHA * (durationMs - this.#meanTurnMs);
  }

  firstToken(ms: number): void {
    if (!(ms >= 0)) return;
    this.#ttftMs = this.#ttftMs === undefined ? ms : this.#ttftMs + ALPHA * (ms - this.#ttftMs);
  }

  /** The heartbeat's fields (those known so far). */
  load(): { turnsStarted: number; meanTurnMs?: number; modelTtftMs?: number } {
    const out: { turnsStarted: number; meanTurnMs?: number; modelTtftMs?: number } = { turnsStarted: this.#started };
    if (this.#meanTurnMs !== undefined) out.meanTurnMs = Math.round(this.#meanTurnMs);
    else if (this.#firstStartedAtMs !== undefined) out.meanTurnMs = Math.max(0, this.#clock() - this.#firstStartedAtMs);
    if (this.#ttftMs !== undefined) out.modelTtftMs = Math.round(this.#ttftMs);
    return out;
  }
}
