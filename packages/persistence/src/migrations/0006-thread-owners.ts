import type { Kysely, Migration } from "kysely";

/**
 * Users inside a tenant own threads: a thread records the user who started it (null for a tenant-wide
 * credential), the users it is shared with and those of them its approvals are delegated to (JSON
 * arrays); a turn records the user who started it.
 */
export const migration0006ThreadOwners: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable("threads").addColumn("owner_user", "text").execute();
    await db.schema.alterTable("threads").addColumn("shared_with", "text", (c) => c.notNull().defaultTo("[]")).execute();
    await db.schema.alterTable("threads").addColumn("approvers", "text", (c) => c.notNull().defaultTo("[]")).execute();
    await db.schema.alterTable("turns").addColumn("started_by", "text").execute();
    await db.schema.createIndex("threads_by_owner_user").on("threads").columns(["tenant_id", "owner_user"]).execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropIndex("threads_by_owner_user").execute();
    await db.schema.alterTable("turns").dropColumn("started_by").execute();
    for (const column of ["approvers", "shared_with", "owner_user"]) {
      await db.schema.alterTable("threads").dropColumn(column).execute();
    }
  },
};
