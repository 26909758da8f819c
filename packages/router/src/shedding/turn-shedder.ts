import { DEFAULT_HEARTBEAT_INTERVAL_MS, type HostLoad, type HostRegistry } from "@threadmesh/mesh";
import { OverloadedError } from "@threadmesh/protocol";
import { ClassAdmission, PRIORITY_CLASSES, type ClassAdmissionOptions } from "./class-admission.ts";
import { DEFAULT_LAG_BUDGET_MS, DEFAULT_TTFT_BUDGET_MS, pressureOf, projectedTurnPressure, signalPressureOf, turnLoadOf } from "./pressure.ts";
import type { SheddingMetrics } from "./shedding-metrics.ts";


/** Share of capacity the hosts' active turns must reach before projected turns, time to first token and lag count. */
const PREDICTIVE_FLOOR = 0.4;
/** How often the live hosts are looked at for new heartbeats, in ms. */
export const DEFAULT_SHEDDING_POLL_MS = 250;

export interface TurnShedderOptions extends ClassAdmissionOptions {
  hosts: HostRegistry;
  metrics?: SheddingMetrics;
  /** Default {@link DEFAULT_LAG_BUDGET_MS}. */
  lagBudgetMs?: number;
  /** Default {@link DEFAULT_TTFT_BUDGET_MS}. */
  ttftBudgetMs?: number;
  /** Least time between two steps of the controller, in ms: one per heartbeat period. Default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  minStepMs?: number;
  /** Default {@link DEFAULT_SHEDDING_POLL_MS}. */
  pollMs?: number;
  now?: () => number;
}

/** Steps the rate of new turns is averaged over: a few turns a second are too few to count one step alone. */
const RATE_STEPS = 10;

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
  readonly #ttftBudgetMs: number;
  /** Each live host's `turnsStarted` at the last step, for the rate of new turns. */
  readonly #started = new Map<string, number>();
  /** New turns and the time they were counted over, for the last {@link RATE_STEPS} steps. */
  readonly #window: Array<{ turns: number; ms: number }> = [];
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
    this.#ttftBudgetMs = opts.ttftBudgetMs ?? DEFAULT_TTFT_BUDGET_MS;
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
    const sinceMs = now - this.#steppedAt;
    this.#steppedAt = now;
    const budgets = { lagBudgetMs: this.#lagBudgetMs, ttftBudgetMs: this.#ttftBudgetMs };
    const startsPerMs = this.#startsPerMs(live, sinceMs);
    // The signals besides running turns (where the rate of new turns leads, the model's time to first
    // token, event-loop lag) count once the hosts hold a real share of their capacity: a burst of short
    // turns on an idle mesh, one long turn, or a host's start-up work is no overload (a host refuses new
    // turns itself while its own loop stays late).
    if (turnLoadOf(live) < PREDICTIVE_FLOOR) {
      this.#admission.step(turnLoadOf(live));
      this.#publish();
      return true;
    }
    const current = pressureOf(live, budgets);
    const projected = startsPerMs === null ? null : projectedTurnPressure(live, startsPerMs);
    // Lag and time to first token weigh as they are now; turns, where the rate of new turns takes them
    // (a cut shows there at the next heartbeat), while restoring waits for the running turns as well.
    if (projected === null) this.#admission.step(current);
    else this.#admission.step(Math.max(projected, signalPressureOf(live, budgets)), current);
    this.#publish();
    return true;
  }

  /** New turns per ms over the hosts since the last step, from their `turnsStarted` counters; null when unknown. */
  #startsPerMs(live: readonly HostLoad[], sinceMs: number): number | null {
    let started = 0;
    let known = false;
    const seen = new Set<string>();
    for (const h of live) {
      seen.add(h.hostId);
      if (h.turnsStarted === undefined) continue;
      const before = this.#started.get(h.hostId);
      this.#started.set(h.hostId, h.turnsStarted);
      // A host new since the last step, or restarted (its counter went back): its turns count from the next step.
      if (before === undefined || h.turnsStarted < before) continue;
      started += h.turnsStarted - before;
      known = true;
    }
    for (const id of this.#started.keys()) if (!seen.has(id)) this.#started.delete(id);
    if (!known || !Number.isFinite(sinceMs) || sinceMs <= 0) {
      this.#window.length = 0;
      return null;
    }
    this.#window.push({ turns: started, ms: sinceMs });
    if (this.#window.length > RATE_STEPS) this.#window.shift();
    let turns = 0;
    let ms = 0;
    for (const w of this.#window) {
      turns += w.turns;
      ms += w.ms;
    }
    return turns / ms;
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
