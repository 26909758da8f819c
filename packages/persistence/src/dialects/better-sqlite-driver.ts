import type BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from "kysely";

/**
 * kysely driver for one better-sqlite3 connection. Compared with kysely's own `SqliteDriver` it reuses
 * prepared statements (LRU by SQL text), hands the connection to waiters in FIFO order (kysely's mutex
 * wakes every waiter on each release, which is quadratic under the host's concurrent item writes) and
 * opens transactions with `BEGIN IMMEDIATE`, so a transaction that reads first cannot fail with
 * SQLITE_BUSY when it starts writing while another process holds the write lock.
 */
export class BetterSqliteDriver implements Driver {
  readonly #db: BetterSqlite3.Database;
  readonly #connection: BetterSqliteConnection;
  readonly #lock = new FifoLock();
  readonly #beforeClose: () => Promise<void> | void;

  /** `beforeClose` runs when the driver is destroyed, before the connection closes. */
  constructor(db: BetterSqlite3.Database, statementCacheSize: number, beforeClose: () => Promise<void> | void = () => {}) {
    this.#db = db;
    this.#beforeClose = beforeClose;
    this.#connection = new BetterSqliteConnection(db, statementCacheSize);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  async releaseConnection(): Promise<void> {
    this.#lock.release();
  }

  async destroy(): Promise<void> {
    await this.#beforeClose();
    this.#connection.clear();
    if (this.#db.open) this.#db.close();
  }
}

class BetterSqliteConnection implements DatabaseConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #capacity: number;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: BetterSqlite3.Database, capacity: number) {
    this.#db = db;
    this.#capacity = capacity;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.#prepare(query.sql);
    const params = query.parameters as unknown[];
    if (stmt.reader) return { rows: stmt.all(params) as R[] };
    const { changes } = stmt.run(params);
    return { numAffectedRows: BigInt(changes), rows: [] };
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming is not supported by this store");
  }

  clear(): void {
    this.#statements.clear();
  }

  #prepare(sql: string): BetterSqlite3.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt) {
      this.#statements.delete(sql);
    } else {
      stmt = this.#db.prepare(sql);
      if (this.#statements.size >= this.#capacity) {
        const oldest = this.#statements.keys().next();
        if (!oldest.done) this.#statements.delete(oldest.value);
      }
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }
}

/** A mutex that wakes exactly one waiter per release, in arrival order. */
class FifoLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}
