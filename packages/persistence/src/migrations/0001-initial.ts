import type { Kysely, Migration } from "kysely";

/**
 * Initial schema. Every key and index leads with `tenant_id`, so a tenant's rows cluster together and no
 * query can reach another tenant's rows through an index alone. Migrations see an untyped database: the
 * typed `Database` describes the latest schema, not the one a given migration starts from.
 */
export const migration0001Initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable("tenants")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("api_keys")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("revoked_at", "bigint")
      .addPrimaryKeyConstraint("api_keys_pk", ["tenant_id", "id"])
      .execute();

    await db.schema
      .createTable("threads")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("forked_from_id", "text")
      .addColumn("name", "text")
      .addColumn("preview", "text", (c) => c.notNull())
      .addColumn("cwd", "text", (c) => c.notNull())
      .addColumn("ephemeral", "integer", (c) => c.notNull())
      .addColumn("archived", "integer", (c) => c.notNull())
      .addColumn("materialized", "integer", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("settings", "text", (c) => c.notNull())
      .addColumn("model_provider", "text", (c) => c.notNull())
      .addColumn("token_usage", "text")
      .addColumn("originator", "text")
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addColumn("owner_epoch", "bigint", (c) => c.notNull())
      .addColumn("last_seq", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("threads_pk", ["tenant_id", "id"])
      .execute();
    // thread/list: filter by archived, keyset on (sort value, id).
    await db.schema
      .createIndex("threads_by_created")
      .on("threads")
      .columns(["tenant_id", "archived", "created_at", "id"])
      .execute();
    await db.schema
      .createIndex("threads_by_updated")
      .on("threads")
      .columns(["tenant_id", "archived", "updated_at", "id"])
      .execute();

    await db.schema
      .createTable("turns")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("ordinal", "integer", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("error", "text")
      .addColumn("started_at", "bigint")
      .addColumn("completed_at", "bigint")
      .addColumn("duration_ms", "bigint")
      .addPrimaryKeyConstraint("turns_pk", ["tenant_id", "thread_id", "id"])
      .execute();
    await db.schema
      .createIndex("turns_by_ordinal")
      .on("turns")
      .columns(["tenant_id", "thread_id", "ordinal"])
      .unique()
      .execute();

    await db.schema
      .createTable("items")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("turn_id", "text", (c) => c.notNull())
      .addColumn("ordinal", "integer", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("items_pk", ["tenant_id", "thread_id", "id"])
      .execute();
    await db.schema
      .createIndex("items_by_ordinal")
      .on("items")
      .columns(["tenant_id", "thread_id", "ordinal"])
      .unique()
      .execute();
    await db.schema
      .createIndex("items_by_turn")
      .on("items")
      .columns(["tenant_id", "thread_id", "turn_id", "ordinal"])
      .execute();

    await db.schema
      .createTable("history")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("turn_id", "text", (c) => c.notNull())
      .addColumn("ordinal", "integer", (c) => c.notNull())
      .addColumn("entry", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("history_pk", ["tenant_id", "thread_id", "ordinal"])
      .execute();

    await db.schema
      .createTable("pending_requests")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("request_key", "text", (c) => c.notNull())
      .addColumn("method", "text", (c) => c.notNull())
      .addColumn("params", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("pending_requests_pk", ["tenant_id", "thread_id", "request_key"])
      .execute();

    await db
      .insertInto("tenants")
      .values({ id: "default", name: "Default", created_at: Math.floor(Date.now() / 1000) })
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    for (const table of ["pending_requests", "history", "items", "turns", "threads", "api_keys", "tenants"]) {
      await db.schema.dropTable(table).execute();
    }
  },
};
