import type { Dialect } from "kysely";

/** What differs between SQLite and PostgreSQL, kept in one place so the store itself is dialect-free. */
export interface StoreBackend {
  readonly kind: "sqlite" | "postgres";
  readonly dialect: Dialect;
  /**
   * True when `SELECT … FOR SHARE` exists. Fenced inserts share-lock the thread row so a concurrent
   * `claimEpoch` waits for them (and they re-check the epoch after it). SQLite serialises writers, so a
   * single statement is already atomic there.
   */
  readonly rowLocks: boolean;
  /** SQL function `(haystack, needle)` giving the 1-based position of `needle`, 0 when absent; case-sensitive. */
  readonly positionFunction: "instr" | "strpos";
}

/**
 * Minimal structured logger the store reports to (pino's `Logger` fits). Never required: the store is
 * silent without one.
 */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}
