import type { HostLoad, HostRegistry } from "@threadmesh/mesh";
import type { Logger } from "@threadmesh/telemetry";

/**
 * Part of the lease this host gives up early when judging its own liveness: others see it dead at
 * `at + ttl`, it stops acting at `at + ttl × (1 - margin)`, so clocks that differ by less never overlap.
 */
const SELF_LEASE_MARGIN = 0.2;

export interface HostHeartbeatOptions {
  hostId: string;
  registry: HostRegistry;
  intervalMs: number;
  /** The load to report, read at every beat. */
  load: () => Omit<HostLoad, "hostId" | "at" | "eventLoopLagMs">;
  /** This host's lease lapsed: it must let go of every thread at once. Called once per lapse. */
  onLapse: () => void;
  logger: Logger;
}

/**
 * Writes this host's heartbeat every interval and knows whether its lease still runs: the lease is
 * renewed as of the time a write was issued, once the write is stored. A host that could not renew in
 * time (paused, cut off from NATS) is presumed dead by the others and must stop acting on its threads.
 */
export class HostHeartbeat {
  readonly #opts: HostHeartbeatOptions;
  readonly #selfLeaseMs: number;
  #renewedAt = 0;
  #lapsed = false;
  #lagMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: HostHeartbeatOptions) {
    this.#opts = opts;
    this.#selfLeaseMs = opts.registry.leaseTtlMs * (1 - SELF_LEASE_MARGIN);
  }

  /** Writes the first heartbeat (rejects if it cannot) and starts the timer. */
  async start(): Promise<void> {
    await this.#write();
    if (!this.valid()) throw new Error("the first heartbeat took longer than the lease");
    this.#schedule(Date.now() + this.#opts.intervalMs);
  }

  /**
   * True while this host's lease runs. The first call that finds it lapsed reports the lapse, so a
   * check on any path (command, model request, event) lets go of the threads before acting.
   */
  valid(): boolean {
    if (Date.now() < this.#renewedAt + this.#selfLeaseMs || this.#alone()) return true;
    if (!this.#lapsed && !this.#stopped) {
      this.#lapsed = true;
      this.#opts.logger.warn({ renewedAt: this.#renewedAt }, "heartbeat lease lapsed: dropping every thread");
      this.#opts.onLapse();
    }
    return false;
  }

  /** Writes a heartbeat now (e.g. to announce draining); failures are logged. */
  async beat(): Promise<void> {
    try {
      await this.#write();
    } catch (err) {
      this.#opts.logger.warn({ err }, "heartbeat write failed");
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** No other host could have taken a thread over: the registry is this process's and names no one else. */
  #alone(): boolean {
    const r = this.#opts.registry;
    return r.processLocal && r.live().every((h) => h.hostId === this.#opts.hostId);
  }

  #schedule(due: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(due), Math.max(0, due - Date.now()));
    this.#timer.unref();
  }

  #tick(due: number): void {
    const now = Date.now();
    this.#lagMs = Math.max(0, now - due);
    this.valid();
    // Never wait for a slow write before the next: one stalled acknowledgement must not cost the lease.
    // Each write carries its own time and the newest acknowledged one renews.
    void this.beat();
    this.#schedule(Math.max(due + this.#opts.intervalMs, now + 1));
  }

  async #write(): Promise<void> {
    const at = Date.now();
    const load: HostLoad = { ...this.#opts.load(), hostId: this.#opts.hostId, eventLoopLagMs: this.#lagMs, at };
    await this.#opts.registry.heartbeat(load);
    if (at <= this.#renewedAt) return;
    this.#renewedAt = at;
    if (this.#lapsed && this.valid()) {
      this.#lapsed = false;
      this.#opts.logger.info("heartbeat lease renewed");
    }
  }
}
