import { OverloadedError } from "@threadmesh/protocol";

/** `data.reason` of a new turn refused because the host runs as many turns as it is configured for. */
export const TURN_CAPACITY_REASON = "hostTurnCapacity";
/** `data.reason` of a new turn refused because the host's event loop runs late. */
export const LOOP_LAG_REASON = "hostOverloaded";
/** Largest multiple of the base `retryAfterMs` a refusal asks for. */
const MAX_RETRY_FACTOR = 8;

export interface TurnCapacityOptions {
  /** Turns this host runs at once at most; 0 bounds them only by the event loop's lag. */
  maxTurns: number;
  /** Event-loop lag beyond which new turns are refused, in ms; 0 turns the check off. */
  lagBudgetMs: number;
  /** `retryAfterMs` of a refusal at the limit, in ms; it grows with how far past the limit the host is. */
  retryAfterMs: number;
  activeTurns: () => number;
  /** The event loop's lag under load (not a single stall), in ms. */
  eventLoopLagMs: () => number;
}

/**
 * Whether this host takes one more turn. A host past its turn capacity, or whose event loop runs later
 * than the budget, refuses new turns at once with -32001 and a `retryAfterMs`, instead of taking work
 * it cannot serve (late deltas for every running turn, then commands that time out). The lag read is
 * the sustained one: a loop late timer after timer, not one long synchronous task. Input joining a
 * running turn is never refused here. Checked where `turn/start` starts a turn: a few reads, no
 * allocation unless the turn is refused.
 */
export class TurnCapacity {
  readonly #opts: TurnCapacityOptions;

  constructor(opts: TurnCapacityOptions) {
    this.#opts = opts;
  }

  /** Null when a new turn is taken, else the error to answer with. */
  refusal(): OverloadedError | null {
    const { maxTurns, lagBudgetMs, retryAfterMs } = this.#opts;
    const turns = this.#opts.activeTurns();
    if (maxTurns > 0 && turns >= maxTurns) {
      return new OverloadedError(retryAfterMs, TURN_CAPACITY_REASON, "Server overloaded: this session host runs as many turns as it can; retry later.");
    }
    const lag = lagBudgetMs > 0 ? this.#opts.eventLoopLagMs() : 0;
    if (lag > lagBudgetMs && lagBudgetMs > 0) {
      const factor = Math.min(MAX_RETRY_FACTOR, lag / lagBudgetMs);
      return new OverloadedError(Math.round(retryAfterMs * factor), LOOP_LAG_REASON, "Server overloaded: this session host is falling behind; retry later.");
    }
    return null;
  }

  /** Turns this host runs at most (0: bounded by the event loop only), reported in heartbeats. */
  get maxTurns(): number {
    return this.#opts.maxTurns;
  }
}
