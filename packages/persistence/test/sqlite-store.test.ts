import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/index.ts";
import { describeThreadStore } from "./store-behaviour.ts";

describeThreadStore("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-store-"));
  return {
    // A missing parent directory is created on open.
    url: `sqlite:${join(dir, "nested", "threadmesh.db")}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

test("a SQLite file store runs in WAL mode", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-store-"));
  try {
    const store = await openStore({ url: `sqlite:${join(dir, "a.db")}` });
    assert.equal(existsSync(join(dir, "a.db-wal")), true);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an in-memory SQLite store is migrated on open", async () => {
  const store = await openStore({ url: "sqlite::memory:" });
  assert.equal(await store.ping(), true);
  assert.deepEqual(await store.listThreads({ tenantId: "default", limit: 10, sortKey: "created_at", sortDirection: "desc", archived: false }), {
    data: [],
    nextCursor: null,
    backwardsCursor: null,
  });
  await store.close();
});

test("an unknown store url scheme is refused without echoing the rest of the url", async () => {
  await assert.rejects(openStore({ url: "mysql://root:secret@db/x" }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /unsupported store url scheme mysql:/);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
});

test("the schema keys every table and index by tenant first and seeds the default tenant", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-store-"));
  try {
    const path = join(dir, "schema.db");
    await (await openStore({ url: `sqlite:${path}` })).close();
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      assert.deepEqual(db.prepare("select id from tenants").all(), [{ id: "default" }]);
      const tables = db
        .prepare("select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%'")
        .pluck()
        .all() as string[];
      assert.deepEqual(tables.sort(), [
        "api_keys",
        "balance_updates",
        "billable_events",
        "credit_balances",
        "credit_grants",
        "credit_reservations",
        "credit_windows",
        "history",
        "items",
        "plans",
        "read_states",
        "server_requests",
        "tenants",
        "threads",
        "turns",
        "turn_slots",
        "usage_events",
      ].sort());
      for (const table of tables) {
        // The two catalogs: tenants themselves, and the plans they are on.
        if (table === "tenants" || table === "plans") continue;
        const indexes = db.prepare(`select name from pragma_index_list('${table}')`).pluck().all() as string[];
        assert.ok(indexes.length > 0, `${table} has a primary key`);
        for (const index of indexes) {
          const first = db.prepare(`select name from pragma_index_info('${index}') where seqno = 0`).pluck().get();
          // An API key is looked up by its secret before its tenant is known: the one global index.
          if (table === "api_keys" && first === "secret_hash") continue;
          assert.equal(first, "tenant_id", `${table}.${index}`);
        }
      }
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
