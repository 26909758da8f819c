import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the checkpointer copies the write-ahead log into the database file, in milliseconds. */
export const WAL_CHECKPOINT_INTERVAL_MS = 1_000;

/**
 * Runs in the worker: its own connection to the database file checkpoints the write-ahead log on a
 * timer. PASSIVE never waits for the writer and never blocks it; the writer starts the log over once a
 * checkpoint has copied all of it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 0");
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage({ closed: true });
  parentPort.close();
});
`;

/**
 * How long after a file opens its checkpointer starts, in milliseconds: a worker thread's start costs a
 * few hundred milliseconds of CPU on a 2-core machine, which must not compete with a process starting
 * to listen. Until then the serving connection checkpoints as SQLite does by default.
 */
export const WAL_CHECKPOINTER_START_DELAY_MS = 1_000;

/**
 * Checkpoints a SQLite file's write-ahead log from a worker thread, so that the connection serving the
 * event loop is never the one to copy pages into the database file and wait for the disk (SQLite's
 * automatic checkpoint runs inside whichever commit crosses the threshold, for tens of milliseconds).
 * The worker starts `startDelayMs` after construction; `onStarted` runs once it is up, when the serving
 * connection turns its automatic checkpoint off.
 */
export class WalCheckpointer {
  #worker: Worker | null = null;
  readonly #start: NodeJS.Timeout | null = null;
  /** Settles when the worker has closed its connection, or is gone (at once when it never started). */
  #closed: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;

  /**
   * `onLost` runs when the worker fails or exits unasked, so that the serving connection can take the
   * checkpoints back.
   */
  constructor(
    path: string,
    opts: { intervalMs?: number; startDelayMs?: number; onError?: (message: string) => void; onStarted?: () => void; onLost?: () => void } = {},
  ) {
    const start = () => this.#run(path, opts);
    const delay = opts.startDelayMs ?? WAL_CHECKPOINTER_START_DELAY_MS;
    if (delay <= 0) start();
    else this.#start = setTimeout(start, delay).unref();
  }

  #run(path: string, opts: { intervalMs?: number; onError?: (message: string) => void; onStarted?: () => void; onLost?: () => void }): void {
    if (this.#stopping !== null) return;
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: opts.intervalMs ?? WAL_CHECKPOINT_INTERVAL_MS } });
    this.#worker = worker;
    worker.unref();
    worker.once("online", () => {
      if (this.#stopping === null) opts.onStarted?.();
    });
    this.#closed = new Promise((resolve) => {
      worker.on("message", (m: { error?: string; closed?: boolean }) => {
        if (m.error !== undefined) opts.onError?.(m.error);
        if (m.closed === true) resolve();
      });
      worker.once("exit", () => {
        if (this.#stopping === null) opts.onLost?.();
        resolve();
      });
      worker.once("error", (err) => opts.onError?.(err.message));
    });
  }

  /**
   * Ends the worker once it has closed its connection (or keeps it from starting); the last connection
   * to close checkpoints the rest of the log itself.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#start !== null) clearTimeout(this.#start);
      const worker = this.#worker;
      if (worker === null) return;
      // Held open until the worker has closed its connection.
      worker.ref();
      worker.postMessage("stop");
      await this.#closed;
      worker.unref();
    })();
    return this.#stopping;
  }
}
