import assert from "node:assert/strict";
import type { ThreadStore } from "../src/index.ts";
import { thread, turn } from "./fixtures.ts";

/** A case of the shared store suite: runs with its store, skipped when the backend is unavailable. */
type StoreCase = (title: string, fn: (store: ThreadStore) => Promise<void>) => void;

/** The read-state part of the `ThreadStore` contract; registered by `describeThreadStore`. */
export function readStateCases(test: StoreCase): void {
  test("read marks are per reader and tenant, compare-and-set on the revision, with the ended turns in order", async (store) => {
    const t = thread();
    await store.createThread(t);
    await store.putTurn(turn(t, "t1", 1), 1);
    await store.putTurn(turn(t, "t0", 0), 1);
    await store.putTurn({ ...turn(t, "t2", 2), status: "inProgress", completedAt: null }, 1);

    const none = await store.readStateBases(t.tenantId, "alice", [t.id, "missing"]);
    assert.deepEqual(none.get(t.id), { mark: null, ended: [{ id: "t0", ordinal: 0 }, { id: "t1", ordinal: 1 }] });
    assert.deepEqual(none.get("missing"), { mark: null, ended: [] });

    const first = { mark: "read" as const, seenOrdinal: 1, revision: "r1" };
    assert.equal(await store.putReadMark(t.tenantId, t.id, "alice", first, null), true);
    assert.equal(await store.putReadMark(t.tenantId, t.id, "alice", { ...first, revision: "other" }, null), false);
    assert.equal(await store.putReadMark(t.tenantId, t.id, "alice", { mark: "unread", seenOrdinal: 1, revision: "r2" }, "stale"), false);
    assert.deepEqual((await store.readStateBases(t.tenantId, "alice", [t.id])).get(t.id)!.mark, first);
    const second = { mark: "unread" as const, seenOrdinal: 1, revision: "r2" };
    assert.equal(await store.putReadMark(t.tenantId, t.id, "alice", second, "r1"), true);
    assert.deepEqual((await store.readStateBases(t.tenantId, "alice", [t.id])).get(t.id)!.mark, second);

    assert.equal((await store.readStateBases(t.tenantId, "bob", [t.id])).get(t.id)!.mark, null);
    const elsewhere = await store.readStateBases("another-tenant", "alice", [t.id]);
    assert.deepEqual(elsewhere.get(t.id), { mark: null, ended: [] });

    await store.deleteThread(t.tenantId, t.id);
    assert.deepEqual((await store.readStateBases(t.tenantId, "alice", [t.id])).get(t.id), { mark: null, ended: [] });
  });
}
