import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from "kysely";
import type { StoreBackend } from "../store-backend.ts";
import { BetterSqliteDriver } from "./better-sqlite-driver.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

/** Prepared statements kept per connection; the store issues a few dozen distinct SQL texts. */
const STATEMENT_CACHE_SIZE = 256;
/** How long a writer waits for another process's write lock before SQLITE_BUSY, in milliseconds. */
const BUSY_TIMEOUT_MS = 5_000;
/** SQLite's own threshold for the automatic checkpoint, in pages; used again if the checkpointer is lost. */
const AUTO_CHECKPOINT_PAGES = 1_000;

/**
 * Opens (creating its directory if missing) a SQLite file, or `:memory:`, tuned for one writer process.
 * A file's write-ahead log is checkpointed by a worker thread ({@link WalCheckpointer}), not by commits,
 * from a second after it opens.
 */
export function sqliteBackend(path: string): StoreBackend {
  const inMemory = path === ":memory:";
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new BetterSqlite3(path);
  if (!inMemory) db.pragma("journal_mode = WAL");
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // With WAL, NORMAL only risks the last commits on power loss, never corruption.
  db.pragma("synchronous = NORMAL");
  let checkpointer: WalCheckpointer | null = null;
  if (!inMemory) {
    checkpointer = new WalCheckpointer(path, {
      onStarted: () => {
        if (db.open) db.pragma("wal_autocheckpoint = 0");
      },
      onLost: () => {
        if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      },
    });
  }
  return {
    kind: "sqlite",
    dialect: {
      createDriver: () => new BetterSqliteDriver(db, STATEMENT_CACHE_SIZE, () => checkpointer?.stop()),
      createQueryCompiler: () => new SqliteQueryCompiler(),
      createAdapter: () => new SqliteAdapter(),
      createIntrospector: (kysely) => new SqliteIntrospector(kysely),
    },
    rowLocks: false,
    positionFunction: "instr",
  };
}
