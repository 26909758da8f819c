export { openStore, migrateToLatest } from "./open-store.ts";
export { KyselyThreadStore } from "./kysely-thread-store.ts";
export { StaleEpochError, MissingThreadError, InvalidCursorError } from "./store.ts";
export { MIGRATIONS } from "./migrations/migrations.ts";
export { DEFAULT_PG_POOL_SIZE } from "./dialects/postgres-backend.ts";

export type {
  ThreadStore,
  ThreadRecord,
  ThreadSettings,
  TurnRecord,
  ItemRecord,
  HistoryRecord,
  ServerRequestRecord,
  ThreadListQuery,
  Page,
  ThreadView,
  ReadMark,
  ReadStateBasis,
  TurnRef,
} from "./store.ts";
export type { OpenStoreOptions } from "./open-store.ts";
export type { KyselyThreadStoreOptions } from "./kysely-thread-store.ts";
export type { StoreBackend, StoreLogger } from "./store-backend.ts";
export type { Database } from "./database.ts";
export { KyselyTenantStore } from "./tenants/kysely-tenant-store.ts";
export { openTenantStore } from "./tenants/open-tenant-store.ts";
export { KyselyTenantPolicyStore, openTenantPolicyStore, NO_POLICY_LIMITS } from "./tenants/tenant-policy-store.ts";
export type { TenantPolicyLimits } from "./tenants/tenant-policy-store.ts";
export { API_KEY_PREFIX, isApiKeyShaped, hashApiKey } from "./tenants/api-key-secret.ts";
export { DEFAULT_LAST_USED_FLUSH_MS } from "./tenants/last-used-recorder.ts";
export {
  DEFAULT_PLAN,
  DEFAULT_PRIORITY_CLASS,
  TenancyInputError,
  TenantExistsError,
  UnknownTenantError,
  UnknownApiKeyError,
} from "./tenants/tenant-store.ts";
export type {
  TenantStore,
  TenantRecord,
  NewTenant,
  TenantPatch,
  ApiKeyRecord,
  NewApiKey,
  CreatedApiKey,
  ApiKeyMatch,
} from "./tenants/tenant-store.ts";
export type { KyselyTenantStoreOptions } from "./tenants/kysely-tenant-store.ts";
export { KyselyCreditStore } from "./credits/kysely-credit-store.ts";
export { openCreditStore } from "./credits/open-credit-store.ts";
export type { KyselyCreditStoreOptions } from "./credits/kysely-credit-store.ts";
export type { CreditTables } from "./credits/credit-tables.ts";
export { CreditLedger, InvalidPageTokenError, emptyTotals } from "./credits/credit-ledger.ts";
export type { BalanceView, LedgerEntryView, UsageTotals, UsageQuery } from "./credits/credit-ledger.ts";
export { openAdminStores } from "./admin/open-admin-stores.ts";
export type { AdminStores } from "./admin/open-admin-stores.ts";
