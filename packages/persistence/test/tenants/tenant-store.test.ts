import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../../../../test/support/postgres.ts";
import { describeTenantStore } from "./tenant-store-behaviour.ts";

describeTenantStore("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-tenants-"));
  return { url: `sqlite:${join(dir, "store.db")}`, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeTenantStore("PostgreSQL", async () => {
  const db = await createTestDatabase();
  return db && { url: db.url, dispose: () => db.drop() };
});
