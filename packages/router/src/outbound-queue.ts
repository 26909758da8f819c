import { OutboundBacklog } from "./outbound-backlog.ts";
import type { BudgetMember, OutboundBudget } from "./outbound-budget.ts";
import type { OutboundPolicy } from "./outbound-policy.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import type { TransportLink } from "./transport.ts";

/** Why a connection was shed: it stayed over its own cap past the grace period, or the router's total was over its cap. */
export type ShedCause = "grace" | "totalCap";

/** Fewest bytes written from the backlog each time the socket drains. */
const MIN_ROUND_BYTES = 16 * 1024;

/**
 * The outbound side of one connection under the {@link OutboundPolicy}: frames go to the link as they
 * come while the socket keeps up; once it holds more than the high-water mark they wait in an
 * {@link OutboundBacklog} (deltas of one item merged) that is written a round at a time whenever the
 * socket drains. Over the cap past the grace period, or when the router's budget needs the room,
 * `onShed` closes the connection; the backlog tells it where each thread's unwritten events start.
 */
export class OutboundQueue implements BudgetMember {
  readonly #link: TransportLink;
  readonly #policy: OutboundPolicy;
  readonly #budget: OutboundBudget;
  readonly #metrics: RouterMetrics;
  readonly #onShed: (unwritten: Map<string, number>, cause: ShedCause) => void;
  readonly #backlog = new OutboundBacklog();
  readonly #roundBytes: number;
  #behind = false;
  #waiting = false;
  #held = 0;
  /** When the connection went over its cap (ms since epoch); -1 while under it. */
  #overSince = -1;
  #timer: NodeJS.Timeout | undefined;
  #done = false;
  readonly #onWritable = (): void => this.#writeRound();
  readonly #onGrace = (): void => this.#graceEnded();

  constructor(init: {
    link: TransportLink;
    policy: OutboundPolicy;
    budget: OutboundBudget;
    metrics: RouterMetrics;
    onShed: (unwritten: Map<string, number>, cause: ShedCause) => void;
  }) {
    this.#link = init.link;
    this.#policy = init.policy;
    this.#budget = init.budget;
    this.#metrics = init.metrics;
    this.#onShed = init.onShed;
    this.#roundBytes = Math.max(MIN_ROUND_BYTES, init.policy.highWaterBytes);
    this.#budget.join(this);
  }

  /** True while frames wait in the backlog for the socket to drain. */
  get behind(): boolean {
    return this.#behind;
  }

  outboundBytes(): number {
    return this.#backlog.bytes + this.#link.bufferedBytes + this.#held;
  }

  /**
   * Queues one frame. `method` is the notification method of a thread event ("" for anything else);
   * `threadId` and `seq` place it in its thread's order (undefined / NaN when it has none).
   */
  write(frame: string | Uint8Array, method: string, threadId: string | undefined, seq: number): void {
    if (this.#done) return;
    if (!this.#behind) {
      if (this.#link.socketBytes <= this.#policy.highWaterBytes) {
        this.#link.send(frame);
        return;
      }
      this.#behind = true;
      this.#wait();
    }
    const r = this.#backlog.push(frame, method, threadId, seq);
    if (r.merged) this.#metrics.outboundCoalesced.inc();
    this.#budget.add(r.bytes);
    if (this.#overSince < 0 && this.outboundBytes() > this.#policy.maxBytes) this.#wentOver();
  }

  /** Counts bytes of events held for the connection while it joins a thread (negative to release them). */
  countHeld(bytes: number): void {
    this.#held += bytes;
    this.#budget.add(bytes);
  }

  shedForTotal(): void {
    this.#shed("totalCap");
  }

  /** The connection is closing or gone: the backlog is dropped and nothing more is queued. */
  dispose(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#budget.add(-this.#backlog.clear());
    this.#budget.leave(this);
  }

  #wait(): void {
    if (this.#waiting) return;
    this.#waiting = true;
    this.#link.whenWritable(this.#onWritable);
  }

  #writeRound(): void {
    this.#waiting = false;
    if (this.#done) return;
    if (this.#backlog.length === 0) {
      this.#behind = false;
      this.#overSince = -1;
      return;
    }
    const { frames, bytes } = this.#backlog.take(this.#roundBytes);
    this.#budget.add(-bytes);
    for (const f of frames) this.#link.send(f);
    this.#link.flush();
    if (this.outboundBytes() <= this.#policy.maxBytes) this.#overSince = -1;
    this.#wait();
  }

  #wentOver(): void {
    this.#overSince = Date.now();
    if (this.#timer === undefined) this.#arm(this.#policy.graceMs);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#onGrace, ms);
    this.#timer.unref();
  }

  #graceEnded(): void {
    this.#timer = undefined;
    if (this.#done || this.#overSince < 0) return;
    if (this.outboundBytes() <= this.#policy.maxBytes) {
      this.#overSince = -1;
      return;
    }
    const left = this.#overSince + this.#policy.graceMs - Date.now();
    if (left > 0) this.#arm(left);
    else this.#shed("grace");
  }

  #shed(cause: ShedCause): void {
    if (this.#done) return;
    const unwritten = this.#backlog.firstSeqs();
    this.dispose();
    this.#metrics.slowConsumerCloses.inc({ cause });
    this.#onShed(unwritten, cause);
  }
}
