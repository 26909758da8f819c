import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createTestDatabase } from "../../../test/support/postgres.ts";
import { Kysely, PostgresDialect, sql } from "kysely";
import { StaleEpochError, openStore } from "../src/index.ts";
import { PreparingClient } from "../src/dialects/preparing-client.ts";
import { PreparedStatement, preparedStatementName } from "../src/prepared-statement.ts";
import { describeThreadStore } from "./store-behaviour.ts";
import { item, thread } from "./fixtures.ts";

/** How long the fencing test waits for the insert to queue behind the takeover's row lock. */
const LOCK_WAIT_DEADLINE_MS = 10_000;

// Each call creates its own database on the local server (dropped on dispose); null skips the suite,
// which createTestDatabase only allows outside CI.
describeThreadStore("PostgreSQL", async () => {
  const db = await createTestDatabase();
  return db && { url: db.url, dispose: () => db.drop() };
});

test("an item write racing a takeover waits for it and is then fenced off", async (t) => {
  const db = await createTestDatabase();
  if (!db) {
    t.skip("PostgreSQL unavailable");
    return;
  }
  const store = await openStore({ url: db.url });
  const takeover = new pg.Client({ connectionString: db.url });
  try {
    const th = thread({ ownerEpoch: 1 });
    await store.createThread(th);
    await takeover.connect();
    await takeover.query("begin");
    await takeover.query("update threads set owner_epoch = 2 where tenant_id = $1 and id = $2", [th.tenantId, th.id]);

    const write = store.putItem(item(th, "turn-a", "late", 0), 1);
    const settled = write.then(
      () => "resolved",
      () => "rejected",
    );
    await waitForLockWaiter(takeover, LOCK_WAIT_DEADLINE_MS);
    assert.equal(await Promise.race([settled, Promise.resolve("pending")]), "pending");
    await takeover.query("commit");

    await assert.rejects(write, (err: unknown) => err instanceof StaleEpochError && err.storedEpoch === 2);
    const items = await store.listItems(th.tenantId, th.id, { limit: 10, sortDirection: "asc" });
    assert.deepEqual(items.data, []);
  } finally {
    await takeover.end().catch(() => {});
    await store.close();
    await db.drop();
  }
});

/** Resolves once another backend of this database waits on a lock (the racing insert). */
async function waitForLockWaiter(client: pg.Client, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await client.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'",
    );
    if (r.rows[0].n > 0) return;
    if (Date.now() > until) throw new Error("the racing insert never waited for the takeover's row lock");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test("the store's prepared statements run as named server-side statements, parsed once per connection", async (t) => {
  const db = await createTestDatabase();
  if (!db) {
    t.skip("PostgreSQL unavailable");
    return;
  }
  // Compiles only: this pool never connects.
  const compiler = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) });
  const sum = (a: unknown, b: unknown) => compiler.selectNoFrom(sql<number>`cast(${a} as int) + cast(${b} as int)`.as("sum"));
  const statement = new PreparedStatement<"a" | "b">((p) => sum(p("a"), p("b")));
  const text = sum(0, 0).compile().sql;
  const name = preparedStatementName(text);
  assert.ok(name, "the statement's SQL has a name");
  const client = new PreparingClient({ connectionString: db.url });
  try {
    await client.connect();
    assert.equal((await client.query(text, [1, 2])).rows[0].sum, 3);
    assert.equal((await client.query(text, [40, 2])).rows[0].sum, 42);
    const prepared = await client.query("select name from pg_prepared_statements");
    assert.deepEqual(prepared.rows.map((r: { name: string }) => r.name), [name], "one named statement on this connection, other queries unnamed");
    assert.ok(statement, "built once");
  } finally {
    await client.end();
    await compiler.destroy();
    await db.drop();
  }
});
