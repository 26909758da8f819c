import { randomBytes } from "node:crypto";
import pg from "pg";

/** A throwaway PostgreSQL database; `drop()` removes it (idempotent). */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Server used by tests: local trust auth unless TEST_POSTGRES_URL names another (its database is replaced). */
const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** An unreachable server is reported quickly rather than after pg's default (no) timeout. */
const CONNECT_TIMEOUT_MS = 3_000;

/**
 * Creates a database with a unique name (`tm_test_<pid>_<random>`) on the test server, connecting first to
 * its `postgres` database. When the server is unreachable it returns null so the caller can skip — except
 * under `CI=true`, where it throws: CI must run the PostgreSQL tests, never skip them.
 */
export async function createTestDatabase(): Promise<TestDatabase | null> {
  const server = new URL(process.env.TEST_POSTGRES_URL ?? DEFAULT_SERVER_URL);
  server.pathname = "/postgres";
  const admin = () => new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });

  const name = `tm_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const client = admin();
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    if (process.env.CI === "true") {
      throw new Error(`PostgreSQL unreachable at ${server.host} (required when CI=true)`, { cause: err });
    }
    return null;
  }
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }

  const url = new URL(server);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | null = null;
  return {
    url: url.toString(),
    drop() {
      dropped ??= (async () => {
        const c = admin();
        await c.connect();
        try {
          // FORCE ends connections a failed test may have left open.
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      })();
      return dropped;
    },
  };
}
