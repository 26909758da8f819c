import type { Kysely, Migration } from "kysely";

/**
 * The JSON Schema a turn's final answer must follow (`turn/start`'s `outputSchema`), kept with the turn:
 * a host continuing the turn after its owner was lost sends it again with the new model request.
 */
export const migration0003TurnOutputSchema: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable("turns").addColumn("output_schema", "text").execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable("turns").dropColumn("output_schema").execute();
  },
};
