import { OverloadedError } from "@threadmesh/protocol";

/** Why a `turn/start` was refused because the router's earlier ones still wait for their host (`data.reason`). */
export const START_BACKLOG_REASON = "hostBacklog";
/** Fewest turn/starts waiting for a host before their age counts as a backlog: one slow start (a failover) is not load. */
export const MIN_BACKLOG = 16;
/** Longest `retryAfterMs` a backlog refusal asks for, in ms. */
const MAX_RETRY_AFTER_MS = 8_000;

/**
 * The `turn/start` requests this router sent to session hosts and has no answer for yet. When at least
 * {@link MIN_BACKLOG} of them wait and the oldest has waited longer than `budgetMs`, the hosts are not
 * keeping up (a loop too busy to read its commands, store writes queued behind streaming turns): new
 * turn/starts are refused at once with -32001 and `retryAfterMs` instead of joining a queue whose end
 * is answered only by the request timeout, while the host may still start the turn. The oldest start
 * is the first of an insertion-ordered map: O(1) per request.
 */
export class StartBacklog {
  readonly #budgetMs: number;
  readonly #now: () => number;
  readonly #waiting = new Map<number, number>();
  #next = 0;

  /** `budgetMs` 0 turns the check off (starts are still counted). */
  constructor(budgetMs: number, now: () => number = () => performance.now()) {
    this.#budgetMs = budgetMs;
    this.#now = now;
  }

  /** A turn/start was sent; the returned function marks it answered. */
  begin(): () => void {
    const id = this.#next++;
    this.#waiting.set(id, this.#now());
    return () => void this.#waiting.delete(id);
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** How long the oldest unanswered turn/start has waited, in ms (0 with none). */
  oldestWaitMs(): number {
    for (const at of this.#waiting.values()) return this.#now() - at;
    return 0;
  }

  /** Null when a new turn/start may go to a host, else the error to answer with. */
  refusal(): OverloadedError | null {
    if (this.#budgetMs <= 0 || this.#waiting.size < MIN_BACKLOG) return null;
    const waited = this.oldestWaitMs();
    if (waited <= this.#budgetMs) return null;
    const retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, Math.round(waited));
    return new OverloadedError(retryAfterMs, START_BACKLOG_REASON, "Server overloaded: earlier turns are still waiting for a session host; retry later.");
  }
}
