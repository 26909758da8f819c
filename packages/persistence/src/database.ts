/**
 * Row shapes of every table, as kysely sees them. Booleans are stored as 0/1 integers and JSON as text so
 * that one schema serves SQLite and PostgreSQL; times are Unix seconds unless the column says `_ms`.
 */
export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  threads: ThreadsTable;
  turns: TurnsTable;
  items: ItemsTable;
  history: HistoryTable;
  server_requests: ServerRequestsTable;
  read_states: ReadStatesTable;
}

export interface TenantsTable {
  id: string;
  name: string;
  /** A plan id (plans live with the rate limiter; no foreign key). */
  plan: string;
  /** Shedding order under pressure: lower classes are refused first. */
  priority_class: number;
  status: "active" | "suspended";
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  /** The key's owner inside the tenant, or null for a tenant-wide key. */
  user_id: string | null;
  name: string;
  /** Visible part of the key, e.g. `tm_live_ab12cd34`, for listings. */
  prefix: string;
  /** Hex SHA-256 of the whole key; the key itself is never stored. */
  secret_hash: string;
  /** JSON array of scope names. */
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ThreadsTable {
  tenant_id: string;
  id: string;
  forked_from_id: string | null;
  name: string | null;
  preview: string;
  cwd: string;
  ephemeral: number;
  archived: number;
  materialized: number;
  /** JSON `ThreadStatus`. */
  status: string;
  /** JSON `ThreadSettings`. */
  settings: string;
  /** Copy of `settings.modelProvider`, kept for the `modelProviders` list filter. */
  model_provider: string;
  /** JSON `ThreadTokenUsage` or null. */
  token_usage: string | null;
  originator: string | null;
  source: string;
  created_at: number;
  updated_at: number;
  owner_epoch: number;
  last_seq: number;
  /** The user who started the thread; null for a tenant-wide credential. */
  owner_user: string | null;
  /** JSON array of the users of the tenant the thread is shared with. */
  shared_with: string;
  /** JSON array of the users (among `shared_with`) the owner delegates its approvals to. */
  approvers: string;
}

export interface TurnsTable {
  tenant_id: string;
  thread_id: string;
  id: string;
  ordinal: number;
  status: string;
  /** JSON `TurnError` or null. */
  error: string | null;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
  /** JSON Schema of the turn's final answer (`outputSchema`), or null. */
  output_schema: string | null;
  /** The user who started the turn; null for a tenant-wide credential. */
  started_by: string | null;
}

export interface ItemsTable {
  tenant_id: string;
  thread_id: string;
  /** `ThreadItem.id`; unique within a thread only. */
  id: string;
  turn_id: string;
  ordinal: number;
  /** JSON `ThreadItem`. */
  body: string;
}

export interface HistoryTable {
  tenant_id: string;
  thread_id: string;
  turn_id: string;
  ordinal: number;
  /** JSON Responses API input item. */
  entry: string;
}

export interface ServerRequestsTable {
  tenant_id: string;
  thread_id: string;
  /** Owner-assigned key, unique within the thread across owners. */
  request_key: string;
  turn_id: string;
  item_id: string | null;
  method: string;
  /** JSON params of the server request. */
  params: string;
  /** Event sequence number of the request (issue order). */
  seq: number;
  created_at: number;
}

export interface ReadStatesTable {
  tenant_id: string;
  thread_id: string;
  /** The user reading the thread; `""` for a tenant-wide credential. */
  reader: string;
  /** `read` (up to `seen_ordinal`) or `unread` (from the thread's start). */
  mark: "read" | "unread";
  /** Ordinal of the last ended turn when the mark was set; -1 for none. */
  seen_ordinal: number;
  revision: string;
  updated_at: number;
}
