import { openMigratedDatabase, type OpenStoreOptions } from "../open-store.ts";
import { CreditLedger } from "../credits/credit-ledger.ts";
import { KyselyCreditStore } from "../credits/kysely-credit-store.ts";
import { KyselyTenantStore } from "../tenants/kysely-tenant-store.ts";

/** What the admin API reads and changes, over one connection pool. */
export interface AdminStores {
  tenants: KyselyTenantStore;
  credits: KyselyCreditStore;
  ledger: CreditLedger;
  close(): Promise<void>;
}

/** Opens the tenant store, the credit store and the ledger queries at `url` on one pool, migrated unless `migrate: false`. */
export async function openAdminStores(opts: OpenStoreOptions): Promise<AdminStores> {
  const { db, backend } = await openMigratedDatabase(opts);
  const tenants = new KyselyTenantStore({ db, ...(opts.log ? { log: opts.log } : {}) });
  const credits = new KyselyCreditStore({ db, kind: backend.kind });
  return {
    tenants,
    credits,
    ledger: new CreditLedger(db),
    async close() {
      await tenants.close();
      await credits.close();
      await db.destroy();
    },
  };
}
