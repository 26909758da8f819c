import { Kysely } from "kysely";
import type { Database } from "../database.ts";
import { migrateDatabase } from "../migrate.ts";
import { backendFor, type OpenStoreOptions } from "../open-store.ts";
import { KyselyTenantStore } from "./kysely-tenant-store.ts";

/** Opens the tenant store at `url` (as `openStore` does; its own connection pool), migrated unless `migrate: false`. */
export async function openTenantStore(opts: OpenStoreOptions & { lastUsedFlushMs?: number }): Promise<KyselyTenantStore> {
  const backend = backendFor(opts);
  const db = new Kysely<Database>({ dialect: backend.dialect });
  try {
    if (opts.migrate !== false) await migrateDatabase(db, opts.log);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new KyselyTenantStore({
    db,
    ownsDb: true,
    ...(opts.lastUsedFlushMs === undefined ? {} : { lastUsedFlushMs: opts.lastUsedFlushMs }),
    ...(opts.log ? { log: opts.log } : {}),
  });
}
