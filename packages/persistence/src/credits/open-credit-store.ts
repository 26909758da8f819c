import { Kysely } from "kysely";
import type { Database } from "../database.ts";
import { migrateDatabase } from "../migrate.ts";
import type { OpenStoreOptions } from "../open-store.ts";
import { parseStoreUrl } from "../store-url.ts";
import { sqliteBackend } from "../dialects/sqlite-backend.ts";
import { postgresBackend } from "../dialects/postgres-backend.ts";
import { KyselyCreditStore } from "./kysely-credit-store.ts";

/** Opens the credit store at `url` (its own connection pool), migrated unless `migrate: false`. */
export async function openCreditStore(opts: OpenStoreOptions): Promise<KyselyCreditStore> {
  const location = parseStoreUrl(opts.url);
  const pg: { log?: NonNullable<OpenStoreOptions["log"]>; poolSize?: number } = {};
  if (opts.log) pg.log = opts.log;
  if (opts.poolSize !== undefined) pg.poolSize = opts.poolSize;
  const backend = location.kind === "sqlite" ? sqliteBackend(location.path) : postgresBackend(location.url, pg);
  const db = new Kysely<Database>({ dialect: backend.dialect });
  try {
    if (opts.migrate !== false) await migrateDatabase(db, opts.log);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new KyselyCreditStore({ db, kind: backend.kind, ownsDb: true });
}
