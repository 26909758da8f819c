import { Migrator, type Kysely } from "kysely";
import type { Database } from "./database.ts";
import type { StoreLogger } from "./store-backend.ts";
import { staticMigrationProvider } from "./migrations/migrations.ts";

/**
 * Applies pending migrations and returns their names (empty when already up to date). kysely takes a
 * lock (an advisory lock on PostgreSQL), so processes starting together apply each migration once.
 */
export async function migrateDatabase(db: Kysely<Database>, log?: StoreLogger): Promise<string[]> {
  const migrator = new Migrator({ db, provider: staticMigrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === "Error")?.migrationName ?? "(setup)";
    throw new Error(`migration ${failed} failed`, { cause: error });
  }
  const applied = results.filter((r) => r.status === "Success").map((r) => r.migrationName);
  if (applied.length > 0) log?.info({ migrations: applied }, "store migrations applied");
  return applied;
}
