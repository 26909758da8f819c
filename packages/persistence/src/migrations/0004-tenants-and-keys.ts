import { sql, type Kysely, type Migration } from "kysely";

/**
 * Tenants gain a plan, a priority class, a status and an update time; API keys are rebuilt with an
 * owner, a name, a visible prefix, the secret's hash (unique: the lookup at authentication),
 * scopes and a last-used time. The old `api_keys` table was never written by any release, so it is
 * replaced rather than altered.
 */
export const migration0004TenantsAndKeys: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable("tenants").addColumn("plan", "text", (c) => c.notNull().defaultTo("default")).execute();
    await db.schema.alterTable("tenants").addColumn("priority_class", "integer", (c) => c.notNull().defaultTo(1)).execute();
    await db.schema.alterTable("tenants").addColumn("status", "text", (c) => c.notNull().defaultTo("active")).execute();
    await db.schema.alterTable("tenants").addColumn("updated_at", "bigint", (c) => c.notNull().defaultTo(0)).execute();
    await db.updateTable("tenants").set({ updated_at: sql`created_at` }).execute();

    await db.schema.dropTable("api_keys").execute();
    await db.schema
      .createTable("api_keys")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("user_id", "text")
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("prefix", "text", (c) => c.notNull())
      .addColumn("secret_hash", "text", (c) => c.notNull().unique())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("last_used_at", "bigint")
      .addColumn("revoked_at", "bigint")
      .addPrimaryKeyConstraint("api_keys_pk", ["tenant_id", "id"])
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable("api_keys").execute();
    await db.schema
      .createTable("api_keys")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("revoked_at", "bigint")
      .addPrimaryKeyConstraint("api_keys_pk", ["tenant_id", "id"])
      .execute();
    for (const column of ["updated_at", "status", "priority_class", "plan"]) {
      await db.schema.alterTable("tenants").dropColumn(column).execute();
    }
  },
};
