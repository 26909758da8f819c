import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { createTestDatabase } from "../../../test/support/postgres.ts";
import { openStore, type ThreadRecord, type ThreadStore } from "../src/index.ts";
import type { StoreTarget } from "./store-behaviour.ts";
import { thread, turn } from "./fixtures.ts";

/** Owners, sharing and the users who started turns (migration 0006), on every backend. */
function describeThreadOwners(name: string, make: () => Promise<StoreTarget | null>): void {
  describe(`thread owners on ${name}`, () => {
    let target: StoreTarget | null = null;
    let store: (ThreadStore & { close(): Promise<void> }) | null = null;
    const s = () => {
      assert.ok(store, `${name} unavailable`);
      return store;
    };
    before(async () => {
      target = await make();
      if (target) store = await openStore({ url: target.url });
    });
    after(async () => {
      await store?.close();
      await target?.dispose();
    });

    it("stores the owner, the share list and the approvers, and updates them", async () => {
      const t = thread({ ownerUser: "alice", sharedWith: ["bob"], approvers: ["bob"] });
      await s().createThread(t);
      const stored = await s().getThread(t.tenantId, t.id);
      assert.equal(stored?.ownerUser, "alice");
      assert.deepEqual(stored?.sharedWith, ["bob"]);
      assert.deepEqual(stored?.approvers, ["bob"]);
      await s().updateThread(t.tenantId, t.id, t.ownerEpoch, { sharedWith: ["bob", "carol"], approvers: [] });
      const updated = await s().getThread(t.tenantId, t.id);
      assert.deepEqual(updated?.sharedWith, ["bob", "carol"]);
      assert.deepEqual(updated?.approvers, []);
      assert.equal(updated?.ownerUser, "alice");
    });

    it("records who started a turn, across rewrites of the turn", async () => {
      const t = thread({ ownerUser: "alice" });
      await s().createThread(t);
      await s().putTurn({ ...turn(t, "turn-1", 0), status: "inProgress", startedBy: "alice" }, t.ownerEpoch);
      await s().putTurn({ ...turn(t, "turn-1", 0), startedBy: "alice" }, t.ownerEpoch);
      await s().putTurn({ ...turn(t, "turn-2", 1), startedBy: null }, t.ownerEpoch);
      assert.equal((await s().getTurn(t.tenantId, t.id, "turn-1"))?.startedBy, "alice");
      assert.equal((await s().getTurn(t.tenantId, t.id, "turn-2"))?.startedBy, null);
    });

    it("lists for a user only the threads it owns or that are shared with it, exactly by name", async () => {
      const tenantId = randomUUID();
      const make = (o: Partial<ThreadRecord>) => thread({ tenantId, ...o });
      const threads = {
        alice: make({ ownerUser: "alice" }),
        bob: make({ ownerUser: "bob" }),
        sharedWithAlice: make({ ownerUser: "bob", sharedWith: ["carol", "alice"] }),
        // Near misses: a case variant, a name containing alice's quoted, a name alice's is a part of.
        nearMisses: make({ ownerUser: "bob", sharedWith: ["Alice", 'x"alice', "alice2", "al"] }),
        tenantWide: make({ ownerUser: null }),
      };
      for (const t of Object.values(threads)) await s().createThread(t);
      const list = async (visibleTo: string | null) =>
        (await s().listThreads({ tenantId, limit: 100, sortKey: "created_at", sortDirection: "asc", archived: false, visibleTo })).data.map((r) => r.id).sort();
      assert.deepEqual(await list("alice"), [threads.alice.id, threads.sharedWithAlice.id].sort());
      assert.deepEqual(await list("bob"), [threads.bob.id, threads.sharedWithAlice.id, threads.nearMisses.id].sort());
      assert.deepEqual(await list('x"alice'), [threads.nearMisses.id]);
      assert.deepEqual(await list("nobody"), []);
      assert.deepEqual(await list(null), Object.values(threads).map((t) => t.id).sort());
    });
  });
}

describeThreadOwners("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-owners-"));
  return { url: `sqlite:${join(dir, "store.db")}`, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeThreadOwners("PostgreSQL", async () => {
  const db = await createTestDatabase();
  return db && { url: db.url, dispose: () => db.drop() };
});
