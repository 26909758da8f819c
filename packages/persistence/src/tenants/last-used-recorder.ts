import type { Kysely } from "kysely";
import type { Database } from "../database.ts";
import type { StoreLogger } from "../store-backend.ts";

/** How often pending last-used times are written, in ms. */
export const DEFAULT_LAST_USED_FLUSH_MS = 30_000;
/** Keys per UPDATE statement. */
const BATCH = 500;

/**
 * Collects "key used" notes and writes them in one statement per batch every flush interval, so a burst
 * of connections on one key costs one write. `last_used_at` is therefore accurate to the interval.
 */
export class LastUsedRecorder {
  readonly #db: Kysely<Database>;
  readonly #log: StoreLogger | undefined;
  /** Key ids by tenant. */
  readonly #pending = new Map<string, Set<string>>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Kysely<Database>, flushIntervalMs: number, log?: StoreLogger) {
    this.#db = db;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.#timer.unref();
  }

  note(tenantId: string, keyId: string): void {
    let ids = this.#pending.get(tenantId);
    if (!ids) this.#pending.set(tenantId, (ids = new Set()));
    ids.add(keyId);
  }

  /** Writes what is pending; resolves after earlier flushes too. Never rejects (a failure is logged). */
  flush(): Promise<void> {
    if (this.#pending.size === 0) return this.#flushing;
    const batches = [...this.#pending].map(([tenantId, ids]) => ({ tenantId, ids: [...ids] }));
    this.#pending.clear();
    const at = Math.floor(Date.now() / 1000);
    this.#flushing = this.#flushing.then(async () => {
      try {
        for (const { tenantId, ids } of batches) {
          for (let i = 0; i < ids.length; i += BATCH) {
            await this.#db
              .updateTable("api_keys")
              .set({ last_used_at: at })
              .where("tenant_id", "=", tenantId)
              .where("id", "in", ids.slice(i, i + BATCH))
              .execute();
          }
        }
      } catch (err) {
        this.#log?.warn({ err, tenants: batches.length }, "could not record API key use");
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
