import { randomBytes } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import {
  ApiKeyNameSchema,
  PlanIdSchema,
  PriorityClassSchema,
  ScopesSchema,
  TenantIdSchema,
  TenantNameSchema,
  UserIdSchema,
  firstIssue,
} from "@threadmesh/protocol";
import type { ApiKeysTable, Database, TenantsTable } from "../database.ts";
import type { StoreLogger } from "../store-backend.ts";
import { generateApiKey, hashApiKey } from "./api-key-secret.ts";
import { DEFAULT_LAST_USED_FLUSH_MS, LastUsedRecorder } from "./last-used-recorder.ts";
import {
  DEFAULT_PLAN,
  DEFAULT_PRIORITY_CLASS,
  MAX_TENANT_PAGE,
  TenancyInputError,
  TenantExistsError,
  UnknownApiKeyError,
  UnknownTenantError,
  type ApiKeyMatch,
  type ApiKeyRecord,
  type CreatedApiKey,
  type NewApiKey,
  type NewTenant,
  type TenantPatch,
  type TenantRecord,
  type TenantStore,
} from "./tenant-store.ts";

export interface KyselyTenantStoreOptions {
  /** A database migrated to at least `0004-tenants-and-keys`. */
  db: Kysely<Database>;
  /** Destroy `db` on `close()`. Default false (the database is shared). */
  ownsDb?: boolean;
  /** How often last-used times are written, in ms. Default {@link DEFAULT_LAST_USED_FLUSH_MS}. */
  lastUsedFlushMs?: number;
  log?: StoreLogger;
}

/** {@link TenantStore} over kysely, SQLite and PostgreSQL alike. */
export class KyselyTenantStore implements TenantStore {
  readonly #db: Kysely<Database>;
  readonly #ownsDb: boolean;
  readonly #lastUsed: LastUsedRecorder;
  #closing: Promise<void> | null = null;

  constructor(opts: KyselyTenantStoreOptions) {
    this.#db = opts.db;
    this.#ownsDb = opts.ownsDb ?? false;
    this.#lastUsed = new LastUsedRecorder(opts.db, opts.lastUsedFlushMs ?? DEFAULT_LAST_USED_FLUSH_MS, opts.log);
  }

  async createTenant(t: NewTenant): Promise<TenantRecord> {
    const id = valid(TenantIdSchema, t.id);
    const now = nowSeconds();
    const row: Selectable<TenantsTable> = {
      id,
      name: valid(TenantNameSchema, t.name),
      plan: valid(PlanIdSchema, t.plan ?? DEFAULT_PLAN),
      priority_class: valid(PriorityClassSchema, t.priorityClass ?? DEFAULT_PRIORITY_CLASS),
      status: "active",
      created_at: now,
      updated_at: now,
    };
    const inserted = await this.#db.insertInto("tenants").values(row).onConflict((oc) => oc.column("id").doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) throw new TenantExistsError(id);
    return toTenant(row);
  }

  async getTenant(id: string): Promise<TenantRecord | null> {
    if (!TenantIdSchema.safeParse(id).success) return null;
    const row = await this.#db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toTenant(row) : null;
  }

  async listTenants(opts: { limit?: number; after?: string } = {}): Promise<TenantRecord[]> {
    const limit = opts.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TENANT_PAGE) {
      throw new TenancyInputError(`limit must be an integer from 1 to ${MAX_TENANT_PAGE}`);
    }
    let q = this.#db.selectFrom("tenants").selectAll().orderBy("id").limit(limit);
    if (opts.after !== undefined) q = q.where("id", ">", opts.after);
    return (await q.execute()).map(toTenant);
  }

  async updateTenant(id: string, patch: TenantPatch): Promise<TenantRecord> {
    const set: Partial<Selectable<TenantsTable>> = {};
    if (patch.name !== undefined) set.name = valid(TenantNameSchema, patch.name);
    if (patch.plan !== undefined) set.plan = valid(PlanIdSchema, patch.plan);
    if (patch.priorityClass !== undefined) set.priority_class = valid(PriorityClassSchema, patch.priorityClass);
    return this.#setTenant(id, set);
  }

  suspendTenant(id: string): Promise<TenantRecord> {
    return this.#setTenant(id, { status: "suspended" });
  }

  resumeTenant(id: string): Promise<TenantRecord> {
    return this.#setTenant(id, { status: "active" });
  }

  async #setTenant(id: string, set: Partial<Selectable<TenantsTable>>): Promise<TenantRecord> {
    valid(TenantIdSchema, id);
    const row = await this.#db
      .updateTable("tenants")
      .set({ ...set, updated_at: nowSeconds() })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new UnknownTenantError(id);
    return toTenant(row);
  }

  async createApiKey(k: NewApiKey): Promise<CreatedApiKey> {
    const tenantId = valid(TenantIdSchema, k.tenantId);
    const name = valid(ApiKeyNameSchema, k.name);
    const userId = k.userId === undefined || k.userId === null ? null : valid(UserIdSchema, k.userId);
    const scopes = valid(ScopesSchema, [...(k.scopes ?? [])]);
    if ((await this.getTenant(tenantId)) === null) throw new UnknownTenantError(tenantId);
    const { secret, prefix, hash } = generateApiKey();
    const row: Selectable<ApiKeysTable> = {
      id: `key_${randomBytes(12).toString("hex")}`,
      tenant_id: tenantId,
      user_id: userId,
      name,
      prefix,
      secret_hash: hash,
      scopes: JSON.stringify([...new Set(scopes)]),
      created_at: nowSeconds(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.#db.insertInto("api_keys").values(row).execute();
    return { key: toKey(row), secret };
  }

  async listApiKeys(tenantId: string, opts: { includeRevoked?: boolean } = {}): Promise<ApiKeyRecord[]> {
    valid(TenantIdSchema, tenantId);
    let q = this.#db.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId);
    if (opts.includeRevoked !== true) q = q.where("revoked_at", "is", null);
    const rows = await q.orderBy("created_at", "desc").orderBy("id").execute();
    return rows.map(toKey);
  }

  async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | null> {
    const row = await this.#db.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).where("id", "=", keyId).executeTakeFirst();
    return row ? toKey(row) : null;
  }

  async revokeApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.#db
      .updateTable("api_keys")
      .set({ revoked_at: nowSeconds() })
      .where("tenant_id", "=", tenantId)
      .where("id", "=", keyId)
      .where("revoked_at", "is", null)
      .execute();
    const key = await this.getApiKey(tenantId, keyId);
    if (!key) throw new UnknownApiKeyError(tenantId, keyId);
    return key;
  }

  async findApiKeyBySecret(secret: string): Promise<ApiKeyMatch | null> {
    const row = await this.#db
      .selectFrom("api_keys as k")
      .innerJoin("tenants as t", "t.id", "k.tenant_id")
      .selectAll("k")
      .select([
        "t.name as t_name",
        "t.plan as t_plan",
        "t.priority_class as t_priority_class",
        "t.status as t_status",
        "t.created_at as t_created_at",
        "t.updated_at as t_updated_at",
      ])
      .where("k.secret_hash", "=", hashApiKey(secret))
      .executeTakeFirst();
    if (!row) return null;
    return {
      key: toKey(row),
      tenant: toTenant({
        id: row.tenant_id,
        name: row.t_name,
        plan: row.t_plan,
        priority_class: row.t_priority_class,
        status: row.t_status,
        created_at: row.t_created_at,
        updated_at: row.t_updated_at,
      }),
    };
  }

  touchApiKey(tenantId: string, keyId: string): void {
    this.#lastUsed.note(tenantId, keyId);
  }

  flushLastUsed(): Promise<void> {
    return this.#lastUsed.flush();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#lastUsed.close();
      if (this.#ownsDb) await this.#db.destroy();
    })();
    return this.#closing;
  }
}

/** What this store needs of a zod schema. */
interface Schema<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ message: string }> } };
}

function valid<T>(schema: Schema<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new TenancyInputError(firstIssue(r.error));
  return r.data;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** PostgreSQL returns bigint columns as strings. */
function num(v: number | string): number {
  return typeof v === "number" ? v : Number(v);
}
function numOrNull(v: number | string | null): number | null {
  return v === null ? null : num(v);
}

function toTenant(r: Selectable<TenantsTable>): TenantRecord {
  return {
    id: r.id,
    name: r.name,
    plan: r.plan,
    priorityClass: num(r.priority_class),
    status: r.status,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function toKey(r: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    name: r.name,
    prefix: r.prefix,
    scopes: JSON.parse(r.scopes) as string[],
    createdAt: num(r.created_at),
    lastUsedAt: numOrNull(r.last_used_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}
