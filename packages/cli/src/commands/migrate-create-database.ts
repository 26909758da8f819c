import pg from "pg";

/** What `createDatabaseIfMissing` did. */
export type CreateDatabaseOutcome = "created" | "exists" | "not-postgres";

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Creates the PostgreSQL database `databaseUrl` names when the server lacks it, connecting with the same
 * credentials to the server's `postgres` database (the role needs CREATEDB). A SQLite URL needs nothing:
 * the store creates its file. Errors (server unreachable, no right to create) are thrown as `pg` raises
 * them, for the caller's start-up error report.
 */
export async function createDatabaseIfMissing(databaseUrl: string): Promise<{ outcome: CreateDatabaseOutcome; name: string | null }> {
  if (!databaseUrl.startsWith("postgres://") && !databaseUrl.startsWith("postgresql://")) return { outcome: "not-postgres", name: null };
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (name === "") throw new Error("DATABASE_URL names no database (postgres://user@host:5432/<database>)");
  const maintenance = new URL(target);
  maintenance.pathname = "/postgres";
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) return { outcome: "exists", name };
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    } catch (err) {
      // Another migrate created it between the check and the CREATE.
      if ((err as { code?: string }).code === "42P04") return { outcome: "exists", name };
      throw err;
    }
    return { outcome: "created", name };
  } finally {
    await client.end().catch(() => {});
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
