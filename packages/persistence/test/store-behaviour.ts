import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { AgentMessageItem } from "@threadmesh/protocol";
import {
  InvalidCursorError,
  MIGRATIONS,
  MissingThreadError,
  StaleEpochError,
  migrateToLatest,
  openStore,
  type ItemRecord,
  type Page,
  type ThreadRecord,
  type ThreadStore,
  type TurnRecord,
} from "../src/index.ts";
import { history, item, thread, turn } from "./fixtures.ts";
import { serverRequestCases } from "./server-request-cases.ts";
import { readStateCases } from "./read-state-cases.ts";

/** A fresh, empty database for the suite to open; `dispose` removes it after the store is closed. */
export interface StoreTarget {
  url: string;
  dispose(): Promise<void>;
}

/**
 * The `ThreadStore` contract, run against every backend. `make` returns a new empty database on each call,
 * or null when the backend is unavailable here (the tests then skip).
 */
export function describeThreadStore(name: string, make: () => Promise<StoreTarget | null>): void {
  describe(`ThreadStore on ${name}`, () => {
    let target: StoreTarget | null = null;
    let opened: ThreadStore | null = null;

    before(async () => {
      target = await make();
      if (target) opened = await openStore({ url: target.url });
    });
    after(async () => {
      await opened?.close();
      await target?.dispose();
    });

    /** Runs `fn` with the shared store, skipping when the backend is unavailable. */
    const test = (title: string, fn: (store: ThreadStore) => Promise<void>) =>
      it(title, async (t: TestContext) => {
        if (!opened) {
          t.skip(`${name} unavailable`);
          return;
        }
        await fn(opened);
      });

    test("a created thread reads back with every field", async (store) => {
      const t = thread({ name: "n", forkedFromId: "f", tokenUsage: usage(7), originator: "o", lastSeq: 4 });
      await store.createThread(t);
      assert.deepEqual(await store.getThread(t.tenantId, t.id), t);
      assert.equal(await store.getThread(t.tenantId, randomUUID()), null);
    });

    test("a partial update changes only the given fields and records the writer's epoch", async (store) => {
      const t = thread({ ownerEpoch: 2 });
      await store.createThread(t);
      const settings = { ...t.settings, model: "m2", modelProvider: "other" };
      await store.updateThread(t.tenantId, t.id, 5, {
        name: "renamed",
        settings,
        status: { type: "idle" },
        tokenUsage: usage(3),
        lastSeq: 99,
        updatedAt: 2_000,
        ownerEpoch: 1,
      });
      assert.deepEqual(await store.getThread(t.tenantId, t.id), {
        ...t,
        name: "renamed",
        settings,
        status: { type: "idle" },
        tokenUsage: usage(3),
        lastSeq: 99,
        updatedAt: 2_000,
        ownerEpoch: 5,
      });
      assert.equal(await store.claimEpoch(t.tenantId, t.id, 4), false);
    });

    test("writes with an older epoch are fenced off and write nothing", async (store) => {
      const t = thread({ ownerEpoch: 1 });
      await store.createThread(t);
      assert.equal(await store.claimEpoch(t.tenantId, t.id, 2), true);
      assert.equal(await store.claimEpoch(t.tenantId, t.id, 2), true, "claiming the current epoch again succeeds");
      assert.equal(await store.claimEpoch(t.tenantId, t.id, 1), false);

      const stale = (err: unknown) =>
        err instanceof StaleEpochError && err.threadId === t.id && err.writerEpoch === 1 && err.storedEpoch === 2;
      await assert.rejects(store.updateThread(t.tenantId, t.id, 1, { name: "late" }), stale);
      await assert.rejects(store.putTurn(turn(t, "turn-a", 0), 1), stale);
      await assert.rejects(store.putItem(item(t, "turn-a", "item-a", 0), 1), stale);
      await assert.rejects(store.appendHistory([history(t, "turn-a", 0), history(t, "turn-a", 1)], 1), stale);

      assert.equal((await store.getThread(t.tenantId, t.id))?.name, null);
      assert.equal(await store.getTurn(t.tenantId, t.id, "turn-a"), null);
      assert.deepEqual((await listAllItems(store, t)).length, 0);
      assert.deepEqual(await store.loadHistory(t.tenantId, t.id), []);

      await store.putTurn(turn(t, "turn-a", 0), 2);
      await store.putItem(item(t, "turn-a", "item-a", 0), 3);
      await store.appendHistory([history(t, "turn-a", 0)], 2);
      assert.equal((await store.getThread(t.tenantId, t.id))?.ownerEpoch, 2, "only updateThread and claimEpoch move the epoch");
    });

    test("concurrent claims leave the highest epoch in place", async (store) => {
      const t = thread({ ownerEpoch: 0 });
      await store.createThread(t);
      const epochs = [7, 3, 10, 1, 9, 4];
      await Promise.all(epochs.map((e) => store.claimEpoch(t.tenantId, t.id, e)));
      assert.equal((await store.getThread(t.tenantId, t.id))?.ownerEpoch, 10);
      await assert.rejects(store.putItem(item(t, "turn-a", "x", 0), 9), StaleEpochError);
    });

    test("fenced writes to a thread that is not stored reject with MissingThreadError", async (store) => {
      const t = thread();
      await assert.rejects(store.updateThread(t.tenantId, t.id, 1, { name: "x" }), MissingThreadError);
      await assert.rejects(store.putTurn(turn(t, "turn-a", 0), 1), MissingThreadError);
      await assert.rejects(store.putItem(item(t, "turn-a", "i", 0), 1), MissingThreadError);
      await assert.rejects(store.appendHistory([history(t, "turn-a", 0)], 1), MissingThreadError);
      assert.equal(await store.claimEpoch(t.tenantId, t.id, 1), false);
    });

    test("another tenant's thread id behaves exactly like a missing one", async (store) => {
      const t = await seededThread(store, 2, 2);
      const other = randomUUID();
      const foreign = { ...t, tenantId: other };
      assert.equal(await store.getThread(other, t.id), null);
      await assert.rejects(store.updateThread(other, t.id, 99, { name: "x" }), MissingThreadError);
      assert.equal(await store.claimEpoch(other, t.id, 99), false);
      await assert.rejects(store.putTurn(turn(foreign, "turn-x", 9), 99), MissingThreadError);
      await assert.rejects(store.putItem(item(foreign, "turn-0", "item-0-0", 0), 99), MissingThreadError);
      await assert.rejects(store.appendHistory([history(foreign, "turn-0", 0)], 99), MissingThreadError);
      assert.equal(await store.getTurn(other, t.id, "turn-0"), null);
      assert.deepEqual(await store.listTurns(other, t.id, { limit: 10, sortDirection: "asc" }), emptyPage());
      assert.deepEqual(await store.listItems(other, t.id, { limit: 10, sortDirection: "asc" }), emptyPage());
      assert.deepEqual(await store.loadHistory(other, t.id), []);
      assert.deepEqual((await listIds(store, { tenantId: other })).length, 0);
      await assert.rejects(store.copyThreadContent(other, t.id, randomUUID(), "turn-0"), /^Error: turn not found: turn-0$/);
      await store.deleteThread(other, t.id);

      const mine = await store.getThread(t.tenantId, t.id);
      assert.equal(mine?.name, null);
      assert.equal(mine?.ownerEpoch, 1);
      assert.equal((await listAllItems(store, t)).length, 4);
      assert.equal((await store.loadHistory(t.tenantId, t.id)).length, 4);
      assert.deepEqual(await listIds(store, { tenantId: t.tenantId }), [t.id]);
    });

    test("re-putting an item replaces it instead of adding a second row", async (store) => {
      const t = thread();
      await store.createThread(t);
      await store.putItem(item(t, "turn-a", "one", 0, "first"), 1);
      await store.putItem(item(t, "turn-a", "two", 1), 1);
      await store.putItem(item(t, "turn-a", "one", 0, "replaced"), 1);
      const items = await listAllItems(store, t);
      assert.deepEqual(
        items.map((i) => [i.item.id, i.ordinal, (i.item as AgentMessageItem).text]),
        [
          ["one", 0, "replaced"],
          ["two", 1, "two"],
        ],
      );
    });

    test("items keep thread-wide ordinal order and can be restricted to one turn", async (store) => {
      const t = thread();
      await store.createThread(t);
      for (const o of [3, 0, 5, 1, 4, 2]) await store.putItem(item(t, o < 3 ? "turn-a" : "turn-b", `i${o}`, o), 1);
      assert.deepEqual(
        (await listAllItems(store, t)).map((i) => i.item.id),
        ["i0", "i1", "i2", "i3", "i4", "i5"],
      );
      const b = await store.listItems(t.tenantId, t.id, { turnId: "turn-b", limit: 10, sortDirection: "asc" });
      assert.deepEqual(
        b.data.map((i) => [i.turnId, i.item.id]),
        [
          ["turn-b", "i3"],
          ["turn-b", "i4"],
          ["turn-b", "i5"],
        ],
      );
      const unknown = await store.listItems(t.tenantId, t.id, { turnId: "no-such-turn", limit: 10, sortDirection: "asc" });
      assert.deepEqual(unknown, emptyPage());
    });

    test("items paginate in both directions with opaque cursors", async (store) => {
      const t = thread();
      await store.createThread(t);
      for (let o = 0; o < 7; o++) await store.putItem(item(t, "turn-a", `i${o}`, o), 1);
      const list = (cursor: string | null, sortDirection: "asc" | "desc", limit = 3) =>
        store.listItems(t.tenantId, t.id, { cursor, limit, sortDirection });
      const ids = (p: Page<ItemRecord>) => p.data.map((i) => i.item.id);

      const a1 = await list(null, "asc");
      const a2 = await list(a1.nextCursor, "asc");
      const a3 = await list(a2.nextCursor, "asc");
      assert.deepEqual([ids(a1), ids(a2), ids(a3)], [["i0", "i1", "i2"], ["i3", "i4", "i5"], ["i6"]]);
      assert.equal(a3.nextCursor, null);

      const d1 = await list(null, "desc");
      const d2 = await list(d1.nextCursor, "desc");
      const d3 = await list(d2.nextCursor, "desc");
      assert.deepEqual([ids(d1), ids(d2), ids(d3)], [["i6", "i5", "i4"], ["i3", "i2", "i1"], ["i0"]]);
      assert.equal(d3.nextCursor, null);

      // A backwards cursor lists from its anchor, included, the other way.
      assert.deepEqual(ids(await list(a2.backwardsCursor ?? null, "desc")), ["i3", "i2", "i1"]);
      assert.deepEqual(ids(await list(d2.backwardsCursor ?? null, "asc", 10)), ["i3", "i4", "i5", "i6"]);

      const exact = await list(null, "asc", 7);
      assert.equal(exact.data.length, 7);
      assert.equal(exact.nextCursor, null, "a page that ends exactly at the last item has no next cursor");

      await assert.rejects(list("garbage", "asc"), (err: unknown) => err instanceof InvalidCursorError && err.message === "invalid cursor: garbage");
      const turnsCursor = (await seededTurnsPage(store)).nextCursor;
      assert.ok(turnsCursor);
      await assert.rejects(list(turnsCursor, "asc"), InvalidCursorError);
    });

    test("turns replace by id and paginate in both directions", async (store) => {
      const t = thread();
      await store.createThread(t);
      for (const o of [2, 0, 4, 1, 3]) await store.putTurn(turn(t, `turn-${o}`, o), 1);
      const outputSchema = { type: "object", properties: { title: { type: "string" } } };
      const done: TurnRecord = { ...turn(t, "turn-1", 1), status: "failed", error: turnError(), completedAt: 20, durationMs: 5, outputSchema };
      await store.putTurn(done, 1);
      assert.deepEqual(await store.getTurn(t.tenantId, t.id, "turn-1"), done);

      const list = (cursor: string | null, sortDirection: "asc" | "desc") =>
        store.listTurns(t.tenantId, t.id, { cursor, limit: 2, sortDirection });
      const ids = (p: Page<TurnRecord>) => p.data.map((x) => x.id);
      const d1 = await list(null, "desc");
      const d2 = await list(d1.nextCursor, "desc");
      const d3 = await list(d2.nextCursor, "desc");
      assert.deepEqual([ids(d1), ids(d2), ids(d3)], [["turn-4", "turn-3"], ["turn-2", "turn-1"], ["turn-0"]]);
      assert.equal(d3.nextCursor, null);
      const a1 = await list(null, "asc");
      const a2 = await list(a1.nextCursor, "asc");
      assert.deepEqual([ids(a1), ids(a2)], [["turn-0", "turn-1"], ["turn-2", "turn-3"]]);
      assert.deepEqual(ids(await list(d2.backwardsCursor ?? null, "asc")), ["turn-2", "turn-3"]);
      await assert.rejects(list("garbage", "desc"), /^InvalidCursorError: invalid cursor: garbage$/);
      assert.deepEqual(await store.listTurns(t.tenantId, randomUUID(), { limit: 5, sortDirection: "asc" }), emptyPage());
    });

    test("thread list sorts by created or updated time, ties broken by id, across pages", async (store) => {
      const tenantId = randomUUID();
      const created = [100, 200, 200, 200, 300, 50];
      const threads = created.map((c, i) => thread({ tenantId, createdAt: c, updatedAt: 1_000 - i * 10 - (i === 2 ? 100 : 0) }));
      for (const t of threads) await store.createThread(t);

      for (const sortKey of ["created_at", "updated_at"] as const) {
        for (const sortDirection of ["asc", "desc"] as const) {
          const value = (t: ThreadRecord) => (sortKey === "created_at" ? t.createdAt : t.updatedAt);
          const expected = [...threads]
            .sort((x, y) => value(x) - value(y) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
            .map((t) => t.id);
          if (sortDirection === "desc") expected.reverse();
          const pages: string[][] = [];
          let cursor: string | null = null;
          do {
            const page: Page<ThreadRecord> = await store.listThreads({ tenantId, archived: false, limit: 2, sortKey, sortDirection, cursor });
            pages.push(page.data.map((t) => t.id));
            cursor = page.nextCursor;
          } while (cursor !== null);
          assert.deepEqual(pages.flat(), expected, `${sortKey} ${sortDirection}`);
          assert.deepEqual(pages.map((p) => p.length), [2, 2, 2]);
        }
      }

      const first = await store.listThreads({ tenantId, archived: false, limit: 2, sortKey: "created_at", sortDirection: "desc" });
      assert.deepEqual(first.data[0], threads[4]);
      await assert.rejects(
        store.listThreads({ tenantId, archived: false, limit: 2, sortKey: "updated_at", sortDirection: "desc", cursor: first.nextCursor }),
        InvalidCursorError,
        "a cursor is bound to its sort key",
      );
      await assert.rejects(
        store.listThreads({ tenantId, archived: false, limit: 2, sortKey: "created_at", sortDirection: "desc", cursor: "garbage" }),
        (err: unknown) => err instanceof Error && err.message === "invalid cursor: garbage",
      );
      const back = await store.listThreads({
        tenantId,
        archived: false,
        limit: 10,
        sortKey: "created_at",
        sortDirection: "asc",
        cursor: first.backwardsCursor ?? null,
      });
      assert.deepEqual(back.data.map((t) => t.id), [threads[4]!.id]);
    });

    test("thread list filters by archive state, cwd, search term, provider and exclusions", async (store) => {
      const tenantId = randomUUID();
      const mk = (o: Partial<ThreadRecord>, provider = "openai") =>
        thread({ tenantId, ...o, settings: { ...thread().settings, modelProvider: provider } });
      const plain = mk({ preview: "Fix the Parser", cwd: "/a" });
      const named = mk({ preview: "other", name: "parser work", cwd: "/b" }, "local");
      const archived = mk({ preview: "Fix the Parser too", archived: true, cwd: "/a" });
      const draft = mk({ preview: "Parser draft", materialized: false, cwd: "/a" });
      const ephemeral = mk({ preview: "Parser ephemeral", ephemeral: true, cwd: "/a" });
      const third = mk({ preview: "third", cwd: "/c" }, "azure");
      for (const t of [plain, named, archived, draft, ephemeral, third]) await store.createThread(t);

      const ids = (o: Partial<Parameters<ThreadStore["listThreads"]>[0]> = {}) => listIds(store, { tenantId, ...o });
      assert.deepEqual(await ids(), sorted([plain.id, named.id, third.id]));
      assert.deepEqual(await ids({ archived: true }), [archived.id]);
      assert.deepEqual(await ids({ cwd: ["/a", "/c"] }), sorted([plain.id, third.id]));
      assert.deepEqual(await ids({ cwd: [] }), sorted([plain.id, named.id, third.id]), "an empty cwd list does not filter");
      assert.deepEqual(await ids({ searchTerm: "Parser" }), [plain.id], "case-sensitive on the preview");
      assert.deepEqual(await ids({ searchTerm: "parser" }), [named.id], "and on the name");
      assert.deepEqual(await ids({ searchTerm: "%" }), [], "no pattern characters");
      assert.deepEqual(await ids({ modelProviders: ["local", "azure"] }), sorted([named.id, third.id]));
      assert.deepEqual(await ids({ modelProviders: [] }), sorted([plain.id, named.id, third.id]));
      assert.deepEqual(await ids({ excludedThreadIds: [plain.id, third.id] }), [named.id]);
      assert.deepEqual(await ids({ cwd: ["/a", "/b"], modelProviders: ["openai"], searchTerm: "the" }), [plain.id]);

      await store.updateThread(tenantId, third.id, 1, { settings: { ...third.settings, modelProvider: "local" }, archived: false });
      assert.deepEqual(await ids({ modelProviders: ["local"] }), sorted([named.id, third.id]));
    });

    test("history appends in order, all or nothing, and a repeated ordinal replaces its entry", async (store) => {
      const t = thread();
      const other = thread({ tenantId: t.tenantId, ownerEpoch: 9 });
      await store.createThread(t);
      await store.createThread(other);
      await store.appendHistory([history(t, "turn-a", 0), history(t, "turn-a", 1)], 1);
      await store.appendHistory([history(t, "turn-b", 2), { ...history(t, "turn-b", 1), entry: { replaced: true } }], 1);
      assert.deepEqual(await store.loadHistory(t.tenantId, t.id), [
        history(t, "turn-a", 0),
        { ...history(t, "turn-b", 1), entry: { replaced: true } },
        history(t, "turn-b", 2),
      ]);

      await assert.rejects(store.appendHistory([history(t, "turn-c", 3), history(other, "turn-x", 0)], 1), StaleEpochError);
      assert.equal((await store.loadHistory(t.tenantId, t.id)).length, 3, "the batch for the unfenced thread rolled back");

      const many = Array.from({ length: 1_234 }, (_, i) => history(t, "turn-big", 10 + i));
      await store.appendHistory(many, 1);
      const loaded = await store.loadHistory(t.tenantId, t.id);
      assert.equal(loaded.length, 3 + many.length);
      assert.deepEqual(loaded.slice(3), many);
    });

    test("fork copies turns, items and history through the last turn, inclusive", async (store) => {
      const src = await seededThread(store, 3, 2);
      const through = thread({ tenantId: src.tenantId, forkedFromId: src.id });
      const all = thread({ tenantId: src.tenantId, forkedFromId: src.id });
      await store.createThread(through);
      await store.createThread(all);

      await store.copyThreadContent(src.tenantId, src.id, through.id, "turn-1");
      const turns = await store.listTurns(src.tenantId, through.id, { limit: 10, sortDirection: "asc" });
      assert.deepEqual(turns.data, [turn(through, "turn-0", 0), turn(through, "turn-1", 1)]);
      const items = await listAllItems(store, through);
      assert.deepEqual(items.map((i) => [i.threadId, i.turnId, i.item.id, i.ordinal]), [
        [through.id, "turn-0", "item-0-0", 0],
        [through.id, "turn-0", "item-0-1", 1],
        [through.id, "turn-1", "item-1-0", 2],
        [through.id, "turn-1", "item-1-1", 3],
      ]);
      const hist = await store.loadHistory(src.tenantId, through.id);
      assert.deepEqual(hist, [0, 1, 2, 3].map((o) => history(through, `turn-${Math.floor(o / 2)}`, o)));

      await store.copyThreadContent(src.tenantId, src.id, all.id, null);
      await store.copyThreadContent(src.tenantId, src.id, all.id, null);
      assert.equal((await store.listTurns(src.tenantId, all.id, { limit: 10, sortDirection: "asc" })).data.length, 3);
      assert.equal((await listAllItems(store, all)).length, 6, "copying twice adds nothing");
      assert.equal((await store.loadHistory(src.tenantId, all.id)).length, 6);

      await assert.rejects(store.copyThreadContent(src.tenantId, src.id, randomUUID(), "nope"), /turn not found: nope/);
      assert.equal((await listAllItems(store, src)).length, 6, "the source is unchanged");
      // The copy is independent: the new owner writes to it under its own epoch.
      await store.putItem(item(through, "turn-1", "item-1-1", 3, "edited"), 1);
      assert.equal(((await listAllItems(store, src))[3]?.item as AgentMessageItem).text, "item-1-1");
    });

    test("deleting a thread removes it with its turns, items and history", async (store) => {
      const t = await seededThread(store, 2, 2);
      const kept = await seededThread(store, 1, 1, t.tenantId);
      await store.deleteThread(t.tenantId, t.id);
      assert.equal(await store.getThread(t.tenantId, t.id), null);
      assert.deepEqual(await store.listTurns(t.tenantId, t.id, { limit: 10, sortDirection: "asc" }), emptyPage());
      assert.deepEqual(await listAllItems(store, t), []);
      assert.deepEqual(await store.loadHistory(t.tenantId, t.id), []);
      await store.deleteThread(t.tenantId, t.id);
      assert.equal((await listAllItems(store, kept)).length, 1);
      assert.deepEqual(await listIds(store, { tenantId: t.tenantId }), [kept.id]);
    });

    serverRequestCases(test);
    readStateCases(test);

    it("migrating an up-to-date database is a no-op", async (t: TestContext) => {
      const fresh = await make();
      if (!fresh) {
        t.skip(`${name} unavailable`);
        return;
      }
      try {
        assert.deepEqual(await migrateToLatest(fresh.url), Object.keys(MIGRATIONS).sort());
        assert.deepEqual(await migrateToLatest(fresh.url), []);
        const store = await openStore({ url: fresh.url });
        assert.equal(await store.ping(), true);
        await store.close();
        await store.close();
        assert.equal(await store.ping(), false);
      } finally {
        await fresh.dispose();
      }
    });
  });
}

function usage(n: number) {
  const b = { totalTokens: n, inputTokens: n, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningOutputTokens: 0 };
  return { total: b, last: b, modelContextWindow: null };
}

function turnError() {
  return { message: "boom", codexErrorInfo: null, additionalDetails: null, misalignment: null };
}

function emptyPage() {
  return { data: [], nextCursor: null, backwardsCursor: null };
}

function sorted(ids: string[]): string[] {
  return [...ids].sort();
}

/** A thread with `turns` turns of `perTurn` items and history entries each (ordinals thread-wide). */
async function seededThread(store: ThreadStore, turns: number, perTurn: number, tenantId?: string): Promise<ThreadRecord> {
  const t = thread(tenantId ? { tenantId } : {});
  await store.createThread(t);
  for (let n = 0; n < turns; n++) {
    await store.putTurn(turn(t, `turn-${n}`, n), 1);
    for (let k = 0; k < perTurn; k++) {
      const ordinal = n * perTurn + k;
      await store.putItem(item(t, `turn-${n}`, `item-${n}-${k}`, ordinal), 1);
      await store.appendHistory([history(t, `turn-${n}`, ordinal)], 1);
    }
  }
  return t;
}

async function seededTurnsPage(store: ThreadStore): Promise<Page<TurnRecord>> {
  const t = await seededThread(store, 2, 0);
  return store.listTurns(t.tenantId, t.id, { limit: 1, sortDirection: "asc" });
}

async function listAllItems(store: ThreadStore, t: ThreadRecord): Promise<ItemRecord[]> {
  return (await store.listItems(t.tenantId, t.id, { limit: 1_000, sortDirection: "asc" })).data;
}

/** Ids of every listed thread, sorted by id (created_at ties everywhere in these fixtures). */
async function listIds(
  store: ThreadStore,
  q: Partial<Parameters<ThreadStore["listThreads"]>[0]> & { tenantId: string },
): Promise<string[]> {
  const page = await store.listThreads({ archived: false, limit: 100, sortKey: "created_at", sortDirection: "asc", ...q });
  return page.data.map((t) => t.id).sort();
}
