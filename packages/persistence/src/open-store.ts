import { Kysely } from "kysely";
import type { Database } from "./database.ts";
import type { StoreBackend, StoreLogger } from "./store-backend.ts";
import type { ThreadStore } from "./store.ts";
import { KyselyThreadStore } from "./kysely-thread-store.ts";
import { migrateDatabase } from "./migrate.ts";
import { parseStoreUrl } from "./store-url.ts";
import { sqliteBackend } from "./dialects/sqlite-backend.ts";
import { postgresBackend } from "./dialects/postgres-backend.ts";

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** `sqlite:./data/threadmesh.db`, `sqlite::memory:` or `postgres://…` / `postgresql://…`. */
  url: string;
  log?: StoreLogger;
  /** Apply pending migrations before returning; default true. */
  migrate?: boolean;
  /** PostgreSQL pool size; default `DEFAULT_PG_POOL_SIZE` (10). Ignored for SQLite. */
  poolSize?: number;
}

/** Opens the store at `url`, migrated to the latest schema unless `migrate: false`. */
export async function openStore(opts: OpenStoreOptions): Promise<ThreadStore> {
  const { db, backend } = await openMigratedDatabase(opts);
  opts.log?.info({ backend: backend.kind }, "store opened");
  return new KyselyThreadStore({ db, backend });
}

/** A connection pool to the database at `url`, migrated unless `migrate: false`; the pool is destroyed if migrating fails. */
export async function openMigratedDatabase(opts: OpenStoreOptions): Promise<{ db: Kysely<Database>; backend: StoreBackend }> {
  const backend = backendFor(opts);
  const db = new Kysely<Database>({ dialect: backend.dialect });
  try {
    if (opts.migrate !== false) await migrateDatabase(db, opts.log);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, backend };
}

/** Migrates the database at `url` to the latest schema and returns the names applied (`threadmesh migrate`). */
export async function migrateToLatest(url: string, opts: { log?: StoreLogger } = {}): Promise<string[]> {
  const db = new Kysely<Database>({ dialect: backendFor({ url, ...opts }).dialect });
  try {
    return await migrateDatabase(db, opts.log);
  } finally {
    await db.destroy();
  }
}

export function backendFor(opts: OpenStoreOptions): StoreBackend {
  const location = parseStoreUrl(opts.url);
  if (location.kind === "sqlite") return sqliteBackend(location.path);
  const pg: { log?: StoreLogger; poolSize?: number } = {};
  if (opts.log) pg.log = opts.log;
  if (opts.poolSize !== undefined) pg.poolSize = opts.poolSize;
  return postgresBackend(location.url, pg);
}
