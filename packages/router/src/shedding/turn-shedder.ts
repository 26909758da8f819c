import { DEFAULT_HEARTBEAT_INTERVAL_MS, type HostRegistry } from "@threadmesh/mesh";
import { OverloadedError } from "@threadmesh/protocol";
import { ClassAdmission, PRIORITY_CLASSES, type ClassAdmissionOptions } from "./class-admission.ts";
import { DEFAULT_LAG_BUDGET_MS, pressureOf } from "./pressure.ts";
import type { SheddingMetrics } from "./shedding-metrics.ts";

/** How often the live hosts are looked at for new heartbeats, in ms. */
export const DEFAULT_SHEDDING_POLL_MS = 250;

export interface TurnShedderOptions extends ClassAdmissionOptions {
  hosts: HostRegistry;
  metrics?: SheddingMetrics;
  /** Default {@link DEFAULT_LAG_BUDGET_MS}. */
  lagBudgetMs?: number;
  /** Least time between two steps of the controller, in ms: one per heartbeat period. Default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  minStepMs?: number;
  /** Default {@link DEFAULT_SHEDDING_POLL_MS}. */
  pollMs?: number;
  now?: () => number;
}

/** Why a shed `turn/start` was refused (`data.reason`). */
export const SHED_REASON = "serverOverloaded";

/**
 * Router-side shedding of new turns under load. A timer looks at the live hosts' heartbeats; when a
 * newer one arrived and a heartbeat period has passed since the last step, their pressure steps the
 * per-class controller ({@link ClassAdmission}). {@link refusal} is what `turn/start` asks per request:
 * no store, no allocation unless the turn is refused.
 */
export class TurnShedder {
  readonly #hosts: HostRegistry;
  readonly #admission: ClassAdmission;
  readonly #metrics: SheddingMetrics | undefined;
  readonly #lagBudgetMs: number;
  readonly #minStepMs: number;
  readonly #pollMs: number;
  readonly #now: () => number;
  /** Sum of the live hosts' heartbeat times at the last step: changes with every new beat, a host gone or come. */
  #seen = -1;
  #steppedAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: TurnShedderOptions) {
    this.#hosts = opts.hosts;
    this.#admission = new ClassAdmission(opts);
    this.#metrics = opts.metrics;
    this.#lagBudgetMs = opts.lagBudgetMs ?? DEFAULT_LAG_BUDGET_MS;
    this.#minStepMs = opts.minStepMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#pollMs = opts.pollMs ?? DEFAULT_SHEDDING_POLL_MS;
    this.#now = opts.now ?? Date.now;
    this.#publish();
  }

  get pressure(): number {
    return this.#admission.pressure;
  }

  admittedFraction(cls: number): number {
    return this.#admission.admittedFraction(cls);
  }

  /** Null when a new turn of class `cls` is admitted, else the `-32001` to answer with. */
  refusal(cls: number): OverloadedError | null {
    if (this.#admission.admit(cls)) return null;
    this.#metrics?.shed.inc({ class: String(cls) });
    return new OverloadedError(this.#admission.retryAfterMs, SHED_REASON, "Server overloaded: new turns of this priority are being shed; retry later.");
  }

  /** Steps the controller when a newer heartbeat arrived and a heartbeat period has passed; true when it stepped. */
  refresh(): boolean {
    const now = this.#now();
    if (now - this.#steppedAt < this.#minStepMs) return false;
    const live = this.#hosts.live();
    let seen = live.length;
    for (const h of live) seen += h.at;
    // Without hosts there is nothing to beat: pressure is 0 and admission grows back.
    if (seen === this.#seen && live.length > 0) return false;
    this.#seen = seen;
    this.#steppedAt = now;
    this.#admission.step(pressureOf(live, this.#lagBudgetMs));
    this.#publish();
    return true;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.refresh(), this.#pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #publish(): void {
    const m = this.#metrics;
    if (m === undefined) return;
    m.pressure.set(this.#admission.pressure);
    for (let c = 0; c < PRIORITY_CLASSES; c++) m.admittedFraction.set({ class: String(c) }, this.#admission.admittedFraction(c));
  }
}
