import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HostLoad, HostRegistry } from "@threadmesh/mesh";
import { eventually } from "./eventually.ts";

/** Two views of one registry: `writer` heartbeats, `reader` watches (the same object in memory). */
export interface RegistryFixture {
  writer: HostRegistry;
  reader: HostRegistry;
  /** A third view started only after entries exist (initial snapshot). */
  late(): Promise<HostRegistry>;
  cleanup(): Promise<void>;
}

export const TTL_MS = 400;

function load(hostId: string, patch: Partial<HostLoad> = {}): HostLoad {
  return { hostId, loadedThreads: 0, activeTurns: 0, capacity: 10, eventLoopLagMs: 0, draining: false, at: Date.now(), ...patch };
}

/** What every {@link HostRegistry} does, run once per implementation (leases of {@link TTL_MS}). */
export function describeHostRegistry(name: string, make: () => Promise<RegistryFixture>): void {
  describe(name, () => {
    const it = (title: string, body: (f: RegistryFixture) => Promise<void>) =>
      test(title, { timeout: 15_000 }, async () => {
        const f = await make();
        try {
          await f.writer.start();
          await f.reader.start();
          await body(f);
        } finally {
          await f.cleanup();
        }
      });

    it("a heartbeat makes the host live for every reader, with its load", async ({ writer, reader }) => {
      await writer.heartbeat(load("h1", { loadedThreads: 3, activeTurns: 1, draining: true }));
      const seen = await eventually(() => reader.get("h1"), "reader sees h1");
      assert.equal(seen.loadedThreads, 3);
      assert.equal(seen.activeTurns, 1);
      assert.equal(seen.draining, true);
      assert.ok(reader.isAlive("h1"));
      assert.deepEqual(reader.live().map((h) => h.hostId), ["h1"]);
      assert.ok(writer.isAlive("h1"), "the writer sees its own entry at once");
    });

    it("an entry older than the lease is dead; the lease runs from the entry's time", async ({ writer, reader }) => {
      const at = Date.now() - TTL_MS - 1;
      await writer.heartbeat(load("old", { at }));
      await writer.heartbeat(load("fresh"));
      await eventually(() => reader.get("old") && reader.get("fresh"), "reader sees both");
      assert.equal(reader.isAlive("old"), false);
      assert.equal(reader.expiresAt("old"), at + TTL_MS);
      assert.deepEqual(reader.live().map((h) => h.hostId), ["fresh"]);
      const expires = reader.expiresAt("fresh");
      assert.ok(reader.isAlive("fresh", expires - 1));
      assert.equal(reader.isAlive("fresh", expires), false);
      assert.equal(reader.isAlive("unknown"), false);
      assert.equal(reader.expiresAt("unknown"), 0);
    });

    it("a host that stops heartbeating lapses; a new heartbeat revives it", async ({ writer, reader }) => {
      const at = Date.now() - TTL_MS / 2;
      await writer.heartbeat(load("h2", { at }));
      await eventually(() => reader.get("h2"), "reader sees h2");
      assert.equal(reader.isAlive("h2", at + TTL_MS), false);
      await writer.heartbeat(load("h2"));
      await eventually(() => reader.get("h2")!.at > at, "reader sees the renewal");
      assert.ok(reader.isAlive("h2", at + TTL_MS));
    });

    it("an older heartbeat arriving late does not replace a newer one", async ({ writer, reader }) => {
      const now = Date.now();
      await writer.heartbeat(load("h3", { at: now, loadedThreads: 5 }));
      await writer.heartbeat(load("h3", { at: now - 100, loadedThreads: 1 }));
      await eventually(() => reader.get("h3"), "reader sees h3");
      assert.equal(writer.get("h3")!.loadedThreads, 5);
    });

    it("remove makes the host dead for every reader at once", async ({ writer, reader }) => {
      await writer.heartbeat(load("h4"));
      await eventually(() => reader.isAlive("h4"), "reader sees h4 alive");
      await writer.remove("h4");
      assert.equal(writer.isAlive("h4"), false);
      await eventually(() => !reader.isAlive("h4") && reader.get("h4") === undefined, "reader sees h4 removed");
    });

    it("a registry started later has the stored entries once start resolves", async (f) => {
      await f.writer.heartbeat(load("h5"));
      await f.writer.heartbeat(load("h6", { capacity: 2 }));
      const late = await f.late();
      assert.ok(late.isAlive("h5"));
      assert.equal(late.get("h6")?.capacity, 2);
    });
  });
}
