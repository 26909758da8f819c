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
} from "./store.ts";
export type { OpenStoreOptions } from "./open-store.ts";
export type { KyselyThreadStoreOptions } from "./kysely-thread-store.ts";
export type { StoreBackend, StoreLogger } from "./store-backend.ts";
export type { Database } from "./database.ts";
