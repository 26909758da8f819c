import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { claimOwner, type HostRegistry, type OwnerEntry, type OwnerLeases } from "@threadmesh/mesh";
import { eventually } from "./eventually.ts";

/** Two views of one owner bucket (the same object in memory) and a host registry both consult. */
export interface LeasesFixture {
  a: OwnerLeases;
  b: OwnerLeases;
  hosts: HostRegistry;
  cleanup(): Promise<void>;
}

const T = "acme";
let n = 0;
const thread = () => `thread-${process.pid}-${++n}`;
const beat = (hosts: HostRegistry, hostId: string, at = Date.now()) =>
  hosts.heartbeat({ hostId, loadedThreads: 0, activeTurns: 0, capacity: 10, eventLoopLagMs: 0, draining: false, at });

/** What every {@link OwnerLeases} does, and the claim rules on top of it, run once per implementation. */
export function describeOwnerLeases(name: string, make: () => Promise<LeasesFixture>): void {
  describe(name, () => {
    const it = (title: string, body: (f: LeasesFixture) => Promise<void>) =>
      test(title, { timeout: 15_000 }, async () => {
        const f = await make();
        try {
          await Promise.all([f.a.start(), f.b.start(), f.hosts.start()]);
          await body(f);
        } finally {
          await f.cleanup();
        }
      });

    it("create succeeds only while the thread has no entry", async ({ a, b }) => {
      const id = thread();
      const first = await a.create(T, id, { hostId: "h1", epoch: 1, released: false });
      assert.ok(first);
      assert.equal(await b.create(T, id, { hostId: "h2", epoch: 1, released: false }), null);
      assert.deepEqual(await b.read(T, id), first);
      assert.equal(await a.read(T, "no-such-thread"), undefined);
    });

    it("swap and remove succeed only at the current revision", async ({ a, b }) => {
      const id = thread();
      const first = (await a.create(T, id, { hostId: "h1", epoch: 1, released: false }))!;
      const second = await b.swap(T, id, { hostId: "h2", epoch: 2, released: false }, first.revision);
      assert.ok(second && second.revision > first.revision);
      assert.equal(await a.swap(T, id, { hostId: "h1", epoch: 3, released: false }, first.revision), null, "a stale swap loses");
      assert.equal(await a.remove(T, id, first.revision), false, "a stale remove loses");
      assert.equal((await a.read(T, id))?.hostId, "h2");
      assert.equal(await b.remove(T, id, second.revision), true);
      assert.equal(await a.read(T, id), undefined);
      const again = await a.create(T, id, { hostId: "h3", epoch: 3, released: false });
      assert.equal(again?.hostId, "h3", "a removed entry can be created again");
    });

    it("every view's cache follows the changes and tells its listeners", async ({ a, b }) => {
      const id = thread();
      const seen: Array<OwnerEntry | null> = [];
      const stop = b.onChange((tenant, threadId, entry) => {
        if (tenant === T && threadId === id) seen.push(entry);
      });
      const created = (await a.create(T, id, { hostId: "h1", epoch: 1, released: false }))!;
      await eventually(() => b.cached(T, id)?.revision === created.revision, "b caches the entry");
      const moved = (await a.swap(T, id, { hostId: "h1", epoch: 1, released: true }, created.revision))!;
      await eventually(() => b.cached(T, id)?.released, "b sees the release");
      await a.remove(T, id, moved.revision);
      await eventually(() => b.cached(T, id) === undefined, "b forgets the entry");
      await eventually(() => seen.length === 3, "three changes");
      stop();
      assert.deepEqual(seen.map((e) => e && { hostId: e.hostId, released: e.released }), [
        { hostId: "h1", released: false },
        { hostId: "h1", released: true },
        null,
      ]);
    });

    it("claim creates a missing entry at the minimum epoch", async ({ a, hosts }) => {
      const id = thread();
      const r = await claimOwner(a, hosts, { tenant: T, threadId: id, hostId: "h1", minEpoch: 4 });
      assert.equal(r.kind, "claimed");
      assert.equal(r.entry.epoch, 4);
    });

    it("claim refuses while the owner heartbeats, takes over with epoch+1 once it lapsed", async ({ a, b, hosts }) => {
      const id = thread();
      await beat(hosts, "owner");
      await claimOwner(a, hosts, { tenant: T, threadId: id, hostId: "owner", minEpoch: 1 });
      const held = await claimOwner(b, hosts, { tenant: T, threadId: id, hostId: "other", minEpoch: 1 });
      assert.equal(held.kind, "held");
      assert.equal(held.entry.hostId, "owner");
      await eventually(() => !hosts.isAlive("owner"), "owner lapsed", hosts.leaseTtlMs * 3);
      const taken = await claimOwner(b, hosts, { tenant: T, threadId: id, hostId: "other", minEpoch: 1 });
      assert.equal(taken.kind, "claimed");
      assert.deepEqual({ hostId: taken.entry.hostId, epoch: taken.entry.epoch }, { hostId: "other", epoch: 2 });
    });

    it("a released entry is taken over at once; the new epoch also exceeds the store's", async ({ a, b, hosts }) => {
      const id = thread();
      await beat(hosts, "leaving");
      const e = (await a.create(T, id, { hostId: "leaving", epoch: 2, released: false }))!;
      await a.swap(T, id, { hostId: "leaving", epoch: 2, released: true }, e.revision);
      const taken = await claimOwner(b, hosts, { tenant: T, threadId: id, hostId: "other", minEpoch: 7 });
      assert.equal(taken.kind, "claimed");
      assert.equal(taken.entry.epoch, 7);
    });

    it("a host re-claims its own entry with a new epoch", async ({ a, hosts }) => {
      const id = thread();
      await beat(hosts, "self");
      await a.create(T, id, { hostId: "self", epoch: 1, released: false });
      const again = await claimOwner(a, hosts, { tenant: T, threadId: id, hostId: "self", minEpoch: 1 });
      assert.equal(again.kind, "claimed");
      assert.equal(again.entry.epoch, 2);
    });

    it("of two hosts claiming at once, exactly one wins", async ({ a, b, hosts }) => {
      for (let i = 0; i < 5; i++) {
        const id = thread();
        await beat(hosts, "x");
        await beat(hosts, "y");
        const [rx, ry] = await Promise.all([
          claimOwner(a, hosts, { tenant: T, threadId: id, hostId: "x", minEpoch: 1 }),
          claimOwner(b, hosts, { tenant: T, threadId: id, hostId: "y", minEpoch: 1 }),
        ]);
        assert.deepEqual([rx.kind, ry.kind].sort(), ["claimed", "held"]);
        const winner = rx.kind === "claimed" ? "x" : "y";
        assert.equal(rx.entry.hostId, winner);
        assert.equal(ry.entry.hostId, winner);
      }
    });
  });
}
