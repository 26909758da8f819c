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
 * Checkpoints a SQLite file's write-ahead log from a worker thread, so that the connection serving the
 * event loop is never the one to copy pages into the database file and wait for the disk (SQLite's
 * automatic checkpoint runs inside whichever commit crosses the threshold, for tens of milliseconds).
 * The serving connection turns its automatic checkpoint off while this runs.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  /** Settles when the worker has closed its connection, or is gone. */
  readonly #closed: Promise<void>;
  #stopping: Promise<void> | null = null;

  /**
   * `onLost` runs when the worker fails or exits unasked, so that the serving connection can take the
   * checkpoints back.
   */
  constructor(path: string, opts: { intervalMs?: number; onError?: (message: string) => void; onLost?: () => void } = {}) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: opts.intervalMs ?? WAL_CHECKPOINT_INTERVAL_MS } });
    this.#worker.unref();
    this.#closed = new Promise((resolve) => {
      this.#worker.on("message", (m: { error?: string; closed?: boolean }) => {
        if (m.error !== undefined) opts.onError?.(m.error);
        if (m.closed === true) resolve();
      });
      this.#worker.once("exit", () => {
        if (this.#stopping === null) opts.onLost?.();
        resolve();
      });
      this.#worker.once("error", (err) => opts.onError?.(err.message));
    });
  }

  /**
   * Ends the worker once it has closed its connection; the last connection to close checkpoints the
   * rest of the log itself.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      // Held open until the worker has closed its connection.
      this.#worker.ref();
      this.#worker.postMessage("stop");
      await this.#closed;
      this.#worker.unref();
    })();
    return this.#stopping;
  }
}
