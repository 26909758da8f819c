import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { runThreadmesh } from "../../../test/support/processes.ts";

// A database that does not exist yet, on the test server (TEST_POSTGRES_URL or local trust auth).
const server = new URL(process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
server.pathname = "/postgres";
const name = `tm_test_${process.pid}_${randomBytes(4).toString("hex")}_created`;
const target = new URL(server);
target.pathname = `/${name}`;
const databaseUrl = target.toString();

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 3_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const reachable = await admin(async () => true).catch((err: Error) => {
  if (process.env.CI === "true") throw new Error(`PostgreSQL unreachable at ${server.host} (required when CI=true)`, { cause: err });
  return false;
});
const skip = reachable ? false : "PostgreSQL is not reachable";

after(async () => {
  if (reachable) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
});

test("migrate without --create-database names the missing database and the flag, in one line, exit 1", { skip }, async () => {
  const r = await runThreadmesh(["migrate"], { DATABASE_URL: databaseUrl, THREADMESH_LOG_LEVEL: "warn" });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^threadmesh migrate: database "${name}" does not exist: create it with \`threadmesh migrate --create-database\``));
});

test("migrate --create-database creates the missing database and migrates it; run again, it finds both in place", { skip }, async () => {
  const first = await runThreadmesh(["migrate", "--create-database"], { DATABASE_URL: databaseUrl, THREADMESH_LOG_LEVEL: "warn" });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^created database ${name}\napplied migrations: 0001-initial, `));
  const tables = await admin(async () => {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      return (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows.map((r: { table_name: string }) => r.table_name);
    } finally {
      await c.end();
    }
  });
  assert.ok(tables.includes("threads"), `tables: ${tables.join(", ")}`);

  const again = await runThreadmesh(["migrate", "--create-database"], { DATABASE_URL: databaseUrl, THREADMESH_LOG_LEVEL: "warn" });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `database ${name} exists\ndatabase is up to date\n`);
});

test("--create-database with a SQLite URL needs no server and migrates the file", async () => {
  const file = join(tmpdir(), `tm-migrate-${process.pid}-${randomBytes(4).toString("hex")}.db`);
  try {
    const r = await runThreadmesh(["migrate", "--create-database"], { DATABASE_URL: `sqlite:${file}`, THREADMESH_LOG_LEVEL: "warn" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^applied migrations: 0001-initial, /);
  } finally {
    rmSync(file, { force: true });
  }
});
