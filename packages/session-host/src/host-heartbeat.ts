import type { HostLoad, HostRegistry, KeptLoad, LeaseKeeper } from "@threadmesh/mesh";
import type { Logger } from "@threadmesh/telemetry";
import { LoopLag } from "./capacity/loop-lag.ts";

/**
 * Part of the lease this host gives up early when judging its own liveness: others see it dead at
 * `at + ttl`, it stops acting at `at + ttl × (1 - margin)`, so clocks that differ by less never overlap.
 */
const SELF_LEASE_MARGIN = 0.2;
/** Period of the main thread's pulse (event-loop lag, liveness stamp for the lease keeper), in ms. */
const PULSE_MS = 100;

export interface HostHeartbeatOptions {
  hostId: string;
  registry: HostRegistry;
  intervalMs: number;
  /** The load to report, read at every beat. */
  load: () => Omit<HostLoad, "hostId" | "at" | "eventLoopLagMs">;
  /** This host's lease lapsed: it must let go of every thread at once. Called once per lapse. */
  onLapse: () => void;
  /**
   * Longest time the main event loop may be busy without costing the lease, in ms, when the registry
   * can keep the lease off the loop (NATS). Default: the lease's ttl.
   */
  stallMs?: number;
  logger: Logger;
}

/**
 * Writes this host's heartbeat every interval and knows whether its lease still runs: the lease is
 * renewed as of the time a write was issued, once the write is stored. A host that could not renew in
 * time (paused, cut off from NATS) is presumed dead by the others and must stop acting on its threads.
 *
 * On NATS the beats leave from a worker thread with its own connection ({@link LeaseKeeper}), fed by
 * a pulse of the main loop: a loop busy for up to `stallMs` keeps the lease; a loop wedged for longer
 * stops the beats, and the lease runs out one ttl after the last. In one process (embedded) the beats
 * are written from the main loop, which every user of the registry shares.
 */
export class HostHeartbeat {
  readonly #opts: HostHeartbeatOptions;
  readonly #selfLeaseMs: number;
  readonly #lag = new LoopLag();
  #keeper: LeaseKeeper | null = null;
  #seenLapses = 0;
  #renewedAt = 0;
  #lapsed = false;
  #timer: NodeJS.Timeout | undefined;
  #pulse: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: HostHeartbeatOptions) {
    this.#opts = opts;
    this.#selfLeaseMs = opts.registry.leaseTtlMs * (1 - SELF_LEASE_MARGIN);
  }

  /** Writes the first heartbeat (rejects if it cannot) and starts the timers. */
  async start(): Promise<void> {
    const keep = this.#opts.registry.keepLease;
    if (keep !== undefined) {
      this.#keeper = await keep.call(this.#opts.registry, {
        hostId: this.#opts.hostId,
        intervalMs: this.#opts.intervalMs,
        selfLeaseMs: this.#selfLeaseMs,
        stallMs: this.#opts.stallMs ?? this.#opts.registry.leaseTtlMs,
        onBeatFailed: (message) => this.#opts.logger.warn({ err: message }, "heartbeat write failed"),
      }, this.#kept());
      this.#seenLapses = this.#keeper.lapses;
    } else {
      await this.#write();
    }
    if (!this.valid()) throw new Error("the first heartbeat took longer than the lease");
    this.#startPulse();
    if (this.#keeper === null) this.#schedule(Date.now() + this.#opts.intervalMs);
  }

  /** How late the main loop runs its timers, in ms: the largest delay over about the last second. */
  get eventLoopLagMs(): number {
    return this.#lag.lagMs;
  }

  /** How late the main loop runs its timers timer after timer, in ms (the median of the last 2 s; 0 after a single stall). */
  get sustainedLagMs(): number {
    return this.#lag.sustainedLagMs();
  }

  /**
   * True while this host's lease runs. The first call that finds it lapsed reports the lapse, so a
   * check on any path (command, model request, event) lets go of the threads before acting.
   */
  valid(): boolean {
    if (this.#keeper !== null) {
      const lapses = this.#keeper.lapses;
      if (lapses !== this.#seenLapses) {
        // The lease ran out between two renewals the main loop did not see: let go before acting.
        this.#seenLapses = lapses;
        this.#lapse();
        return false;
      }
      this.#renewedAt = this.#keeper.renewedAt;
    }
    if (Date.now() < this.#renewedAt + this.#selfLeaseMs || this.#alone()) {
      if (this.#lapsed) {
        this.#lapsed = false;
        this.#opts.logger.info("heartbeat lease renewed");
      }
      return true;
    }
    this.#lapse();
    return false;
  }

  /** Writes a heartbeat now (e.g. to announce draining); failures are logged. */
  async beat(): Promise<void> {
    if (this.#keeper !== null) {
      this.#keeper.alive(this.#kept());
      this.#keeper.beat();
      return;
    }
    try {
      await this.#write();
    } catch (err) {
      this.#opts.logger.warn({ err }, "heartbeat write failed");
    }
  }

  /** Stops beating; resolves once no heartbeat can leave any more. */
  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#pulse);
    return this.#keeper?.stop() ?? Promise.resolve();
  }

  #lapse(): void {
    if (this.#lapsed || this.#stopped) return;
    this.#lapsed = true;
    this.#opts.logger.warn({ renewedAt: this.#renewedAt }, "heartbeat lease lapsed: dropping every thread");
    this.#opts.onLapse();
  }

  /** No other host could have taken a thread over: the registry is this process's and names no one else. */
  #alone(): boolean {
    const r = this.#opts.registry;
    return r.processLocal && r.live().every((h) => h.hostId === this.#opts.hostId);
  }

  #kept(): KeptLoad {
    return { ...this.#opts.load(), eventLoopLagMs: this.#lag.lagMs };
  }

  /** The main loop's pulse: measures its lag and, with a keeper, shows it runs (after checking the lease). */
  #startPulse(): void {
    const pulse = (due: number): void => {
      if (this.#stopped) return;
      const now = Date.now();
      this.#lag.observe(now, now - due);
      if (this.#keeper !== null) {
        // Checked before the stamp: a lapse the worker saw is acted on before the lease runs again.
        this.valid();
        this.#keeper.alive(this.#kept());
      }
      const next = now + PULSE_MS;
      this.#pulse = setTimeout(() => pulse(next), PULSE_MS);
      this.#pulse.unref();
    };
    pulse(Date.now());
  }

  #schedule(due: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(due), Math.max(0, due - Date.now()));
    this.#timer.unref();
  }

  #tick(due: number): void {
    const now = Date.now();
    this.valid();
    // Never wait for a slow write before the next: one stalled acknowledgement must not cost the lease.
    // Each write carries its own time and the newest acknowledged one renews.
    void this.beat();
    this.#schedule(Math.max(due + this.#opts.intervalMs, now + 1));
  }

  async #write(): Promise<void> {
    const at = Date.now();
    const load: HostLoad = { ...this.#kept(), hostId: this.#opts.hostId, at };
    await this.#opts.registry.heartbeat(load);
    if (at <= this.#renewedAt) return;
    this.#renewedAt = at;
    this.valid();
  }
}
