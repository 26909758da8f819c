import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { WalCheckpointer } from "../src/dialects/wal-checkpointer.ts";
import { sql } from "kysely";
import { KyselyThreadStore, openStore } from "../src/index.ts";
import { eventually } from "../../../test/support/eventually.ts";

test("the worker copies the write-ahead log into the database file while commits never checkpoint", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-wal-"));
  const path = join(dir, "a.db");
  const db = new BetterSqlite3(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("wal_autocheckpoint = 0");
    db.exec("create table t (id integer primary key, body text)");
    const insert = db.prepare("insert into t (body) values (?)");
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run("x".repeat(500));
    })();
    const before = statSync(path).size;
    assert.ok(statSync(`${path}-wal`).size > 1_000_000, "the rows are in the log");
    const errors: string[] = [];
    const checkpointer = new WalCheckpointer(path, { intervalMs: 10, startDelayMs: 0, onError: (m) => errors.push(m) });
    await eventually(() => statSync(path).size > before + 1_000_000, "the log reaches the database file");
    await checkpointer.stop();
    assert.deepEqual(errors, []);
    // Checkpointed whole: the writer starts the log over instead of growing it.
    const walSize = statSync(`${path}-wal`).size;
    insert.run("y");
    assert.equal(statSync(`${path}-wal`).size, walSize);
    assert.equal((db.prepare("select count(*) as n from t").get() as { n: number }).n, 2_001);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a SQLite file store checkpoints in commits while it starts, then leaves checkpoints to its worker and closes it with the store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-wal-"));
  try {
    const path = join(dir, "a.db");
    const store = await openStore({ url: `sqlite:${path}` });
    assert.ok(store instanceof KyselyThreadStore);
    const autocheckpoint = async () => (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.database)).rows[0]!.wal_autocheckpoint;
    assert.ok((await autocheckpoint()) > 0, "no worker yet: SQLite's own checkpoints stay on");
    await eventually(async () => (await autocheckpoint()) === 0, "the worker took the checkpoints over");
    await store.close();
    // The store closed the last connection: SQLite checkpointed and removed the log.
    assert.throws(() => statSync(`${path}-wal`), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
