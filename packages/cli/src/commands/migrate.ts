import { migrateToLatest } from "@threadmesh/persistence";
import type { Config } from "../config.ts";
import { createDatabaseIfMissing } from "./migrate-create-database.ts";

export async function runMigrate(config: Config): Promise<void> {
  if (config.createDatabase) {
    const { outcome, name } = await createDatabaseIfMissing(config.databaseUrl);
    if (outcome === "created") console.log(`created database ${name}`);
    else if (outcome === "exists") console.log(`database ${name} exists`);
  }
  const applied = await migrateToLatest(config.databaseUrl);
  console.log(applied.length ? `applied migrations: ${applied.join(", ")}` : "database is up to date");
}
