import type { Kysely, Migration } from "kysely";

/**
 * Policy limits per tenant and per plan: the highest sandbox mode and the allowed approval policies
 * (a JSON array of names), each null when it leaves the cap above it (the plan's, the server's) as it is.
 */
export const migration0007PolicyLimits: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    for (const table of ["tenants", "plans"]) {
      await db.schema.alterTable(table).addColumn("max_sandbox", "text").execute();
      await db.schema.alterTable(table).addColumn("approval_policies", "text").execute();
    }
  },

  async down(db: Kysely<any>): Promise<void> {
    for (const table of ["plans", "tenants"]) {
      await db.schema.alterTable(table).dropColumn("approval_policies").execute();
      await db.schema.alterTable(table).dropColumn("max_sandbox").execute();
    }
  },
};
