import type { Kysely, Migration } from "kysely";

/**
 * Per-reader read marks of a thread (Codex's `thread/readState/update`): the reader (a user, or `""`
 * for a tenant-wide credential) marked the thread read up to the turn of ordinal `seen_ordinal`, or
 * unread from its start; `revision` changes with every mark.
 */
export const migration0008ReadStates: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable("read_states")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("reader", "text", (c) => c.notNull())
      .addColumn("mark", "text", (c) => c.notNull())
      .addColumn("seen_ordinal", "integer", (c) => c.notNull())
      .addColumn("revision", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("read_states_pk", ["tenant_id", "thread_id", "reader"])
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable("read_states").execute();
  },
};
