import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHostRegistry, MemoryOwnerLeases, type HostLoad } from "@threadmesh/mesh";
import { OrphanSweeper, type OrphanSweeperOptions } from "../src/orphan-sweeper.ts";
import { createLogger } from "@threadmesh/telemetry";

const load = (hostId: string, at: number): HostLoad => ({ hostId, loadedThreads: 0, activeTurns: 0, capacity: 10, eventLoopLagMs: 0, draining: false, at });

/**
 * A live host `me` and a host `dead` whose last beat is older than its lease, owning `ids` at `epoch`;
 * the sweeper of `me` adopts a thread by moving its entry to itself (after `beforeAdopt`).
 */
async function deadOwner(ids: string[], epoch: number, hooks: { hasRunningTurn: OrphanSweeperOptions["hasRunningTurn"]; beforeAdopt?: () => Promise<void> }) {
  const hosts = new MemoryHostRegistry({ leaseTtlMs: 1_000 });
  const owners = new MemoryOwnerLeases();
  await hosts.heartbeat(load("me", Date.now()));
  await hosts.heartbeat(load("dead", Date.now() - 5_000));
  for (const id of ids) await owners.create("t1", id, { hostId: "dead", epoch, released: false });
  const adopted: string[] = [];
  const sweeper = new OrphanSweeper({
    hostId: "me",
    hosts,
    owners,
    intervalMs: 1_000,
    hasRunningTurn: hooks.hasRunningTurn,
    holds: (_tenant, threadId) => adopted.includes(threadId),
    adopt: async (_tenant, threadId) => {
      await hooks.beforeAdopt?.();
      adopted.push(threadId);
      const e = (await owners.read("t1", threadId))!;
      await owners.swap("t1", threadId, { hostId: "me", epoch: e.epoch + 1, released: false }, e.revision);
    },
    active: () => true,
    logger: createLogger({ service: "test", level: "silent" }),
  });
  return { owners, sweeper, adopted };
}

test("orphan sweep: adopts a dead owner's threads with a running turn, reads an idle one once per owner epoch", async () => {
  const checks: string[] = [];
  const { owners, sweeper, adopted } = await deadOwner(["busy", "idle"], 3, {
    hasRunningTurn: async (_tenant, threadId) => {
      checks.push(threadId);
      return threadId === "busy";
    },
  });

  assert.equal(await sweeper.sweep(), 1);
  assert.deepEqual(adopted, ["busy"]);
  assert.deepEqual(checks.sort(), ["busy", "idle"]);
  assert.equal(await sweeper.sweep(), 0);
  assert.deepEqual(checks.sort(), ["busy", "idle"], "an orphan found idle is not read again while its entry stays");

  // Its entry moves (another dead owner, a new epoch): it is read again.
  const e = (await owners.read("t1", "idle"))!;
  await owners.swap("t1", "idle", { hostId: "dead", epoch: 4, released: false }, e.revision);
  await sweeper.sweep();
  assert.deepEqual(checks.sort(), ["busy", "idle", "idle"]);
});

test("orphan sweep: more running orphans than one pass takes are all adopted in one sweep, a few at a time", async () => {
  let running = 0;
  let most = 0;
  const { sweeper, adopted } = await deadOwner(
    Array.from({ length: 120 }, (_, i) => `th-${i}`),
    1,
    {
      hasRunningTurn: async () => true,
      beforeAdopt: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setImmediate(r));
        running--;
      },
    },
  );
  assert.equal(await sweeper.sweep(), 120);
  assert.equal(new Set(adopted).size, 120);
  assert.ok(most > 1 && most <= 4, `adoptions overlap, a few at a time (at most ${most} at once)`);
});
