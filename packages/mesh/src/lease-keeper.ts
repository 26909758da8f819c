import { extname } from "node:path";
import { Worker } from "node:worker_threads";
import type { HostLoad } from "./host-registry.ts";
import { LOAD_CELLS, LoadCell, TIME_CELLS, TimeCell, type LeaseKeeperData, type LeaseKeeperReport } from "./lease-keeper-cells.ts";

/** What the main thread reports with each pulse; the worker puts it in the next heartbeat. */
export type KeptLoad = Omit<HostLoad, "hostId" | "at">;

export interface LeaseKeeperOptions {
  servers: string[];
  /** Bucket of the host entries (default the registry's). */
  bucket?: string | undefined;
  replicas?: number | undefined;
  hostId: string;
  intervalMs: number;
  leaseTtlMs: number;
  selfLeaseMs: number;
  /** Longest silence of the main thread the keeper still beats through, in ms. */
  stallMs: number;
  /** A heartbeat the worker could not write (logged by the caller). */
  onBeatFailed?: (message: string) => void;
}

/** How long {@link LeaseKeeper.stop} waits for the worker to close its connection, in ms. */
const STOP_WITHIN_MS = 1_000;

/**
 * A host's lease kept off its main event loop: a worker thread with its own NATS connection writes the
 * heartbeats, fed by the main thread's pulse ({@link alive}). The lease survives a main loop busy for up
 * to `stallMs`; a main loop silent for longer stops the beats, so the lease runs out `leaseTtlMs` after
 * the last one and other hosts adopt the threads. When the lease ran out between two renewals the
 * keeper counts a lapse ({@link lapses}) before it shows the renewal, so the main thread lets go of its
 * threads first: ownership stays fenced by the owner entries' epochs as before.
 */
export class LeaseKeeper {
  readonly #worker: Worker;
  readonly #times: BigInt64Array;
  readonly #load: Int32Array;
  #exited: Promise<void>;

  private constructor(worker: Worker, times: BigInt64Array, load: Int32Array) {
    this.#worker = worker;
    this.#times = times;
    this.#load = load;
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
  }

  /** Starts the worker; resolves once its first heartbeat is stored (rejects when it cannot be). */
  static async start(opts: LeaseKeeperOptions, first: KeptLoad): Promise<LeaseKeeper> {
    const times = new SharedArrayBuffer(TIME_CELLS * 8);
    const load = new SharedArrayBuffer(LOAD_CELLS * 4);
    const data: LeaseKeeperData = {
      servers: opts.servers,
      name: `threadmesh-lease-${opts.hostId}`,
      bucket: opts.bucket,
      replicas: opts.replicas,
      hostId: opts.hostId,
      intervalMs: opts.intervalMs,
      leaseTtlMs: opts.leaseTtlMs,
      selfLeaseMs: opts.selfLeaseMs,
      stallMs: opts.stallMs,
      times,
      load,
    };
    // The worker module sits next to this one: .ts under tsx, .js in the compiled output.
    const worker = startWorker(new URL(`./lease-keeper-worker${extname(new URL(import.meta.url).pathname)}`, import.meta.url), data);
    const keeper = new LeaseKeeper(worker, new BigInt64Array(times), new Int32Array(load));
    keeper.alive(first);
    // The main thread runs while the worker starts (loading it can take a while): keep showing it.
    const stamp = setInterval(() => keeper.alive(first), 100);
    await new Promise<void>((resolve, reject) => {
      worker.on("message", (r: LeaseKeeperReport) => {
        if (r.kind === "ready") resolve();
        else if (r.kind === "failed") reject(new Error(`lease keeper: ${r.message}`));
        else opts.onBeatFailed?.(r.message);
      });
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`lease keeper exited (code ${code}) before its first heartbeat`)));
    }).finally(() => clearInterval(stamp));
    // A worker that fails later stops beating: the lease lapses and the host lets go of its threads.
    worker.on("error", (err) => opts.onBeatFailed?.(`lease keeper failed: ${err.message}`));
    worker.unref();
    return keeper;
  }

  /** The main thread runs: stamps the time and the load the next heartbeat carries. */
  alive(load: KeptLoad): void {
    Atomics.store(this.#load, LoadCell.LoadedThreads, load.loadedThreads);
    Atomics.store(this.#load, LoadCell.ActiveTurns, load.activeTurns);
    Atomics.store(this.#load, LoadCell.Capacity, load.capacity);
    Atomics.store(this.#load, LoadCell.TurnCapacity, load.turnCapacity ?? 0);
    Atomics.store(this.#load, LoadCell.EventLoopLagMs, Math.min(2 ** 31 - 1, Math.round(load.eventLoopLagMs)));
    Atomics.store(this.#load, LoadCell.Draining, load.draining ? 1 : 0);
    Atomics.store(this.#load, LoadCell.TurnsStarted, (load.turnsStarted ?? 0) % 2 ** 31);
    Atomics.store(this.#load, LoadCell.MeanTurnMs, load.meanTurnMs === undefined ? -1 : Math.min(2 ** 31 - 1, Math.round(load.meanTurnMs)));
    Atomics.store(this.#load, LoadCell.ModelTtftMs, load.modelTtftMs === undefined ? -1 : Math.min(2 ** 31 - 1, Math.round(load.modelTtftMs)));
    Atomics.store(this.#times, TimeCell.AliveAt, BigInt(Date.now()));
  }

  /** `at` of the newest stored heartbeat: the lease runs from there. */
  get renewedAt(): number {
    return Number(Atomics.load(this.#times, TimeCell.RenewedAt));
  }

  /** Times the lease ran out between two renewals, ever. */
  get lapses(): number {
    return Number(Atomics.load(this.#times, TimeCell.Lapses));
  }

  /** Asks for a heartbeat now (a change of state to announce). */
  beat(): void {
    this.#worker.postMessage("beat");
  }

  /** No heartbeat leaves after this returns; resolves once the worker closed its connection. */
  stop(): Promise<void> {
    Atomics.store(this.#times, TimeCell.Stopped, 1n);
    this.#worker.postMessage("stop");
    const timer = setTimeout(() => void this.#worker.terminate(), STOP_WITHIN_MS);
    return this.#exited.finally(() => clearTimeout(timer));
  }
}

/**
 * Starts a worker on a module of this package. Under tsx (TypeScript sources) the worker registers tsx
 * itself first: a worker's entry point does not go through the parent's loader.
 */
function startWorker(entry: URL, workerData: LeaseKeeperData): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
