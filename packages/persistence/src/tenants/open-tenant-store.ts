import { openMigratedDatabase, type OpenStoreOptions } from "../open-store.ts";
import { KyselyTenantStore } from "./kysely-tenant-store.ts";

/** Opens the tenant store at `url` (as `openStore` does; its own connection pool), migrated unless `migrate: false`. */
export async function openTenantStore(opts: OpenStoreOptions & { lastUsedFlushMs?: number }): Promise<KyselyTenantStore> {
  const { db } = await openMigratedDatabase(opts);
  return new KyselyTenantStore({
    db,
    ownsDb: true,
    ...(opts.lastUsedFlushMs === undefined ? {} : { lastUsedFlushMs: opts.lastUsedFlushMs }),
    ...(opts.log ? { log: opts.log } : {}),
  });
}
