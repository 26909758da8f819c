import { openMigratedDatabase, type OpenStoreOptions } from "../open-store.ts";
import { KyselyCreditStore } from "./kysely-credit-store.ts";

/** Opens the credit store at `url` (its own connection pool), migrated unless `migrate: false`. */
export async function openCreditStore(opts: OpenStoreOptions): Promise<KyselyCreditStore> {
  const { db, backend } = await openMigratedDatabase(opts);
  return new KyselyCreditStore({ db, kind: backend.kind, ownsDb: true });
}
