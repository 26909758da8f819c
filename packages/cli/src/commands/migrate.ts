import { migrateToLatest } from "@threadmesh/persistence";
import type { Config } from "../config.ts";

export async function runMigrate(config: Config): Promise<void> {
  const applied = await migrateToLatest(config.databaseUrl);
  console.log(applied.length ? `applied migrations: ${applied.join(", ")}` : "database is up to date");
}
