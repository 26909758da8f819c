import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { Admission, BurstLimiter, PriceTable, WriteBehindCreditStore } from "@threadmesh/ratelimit";
import { startRedisServer } from "../../../../test/support/redis-server.ts";
import { testPlan } from "../../../../test/support/plans.ts";
import { openCreditStore } from "../../src/index.ts";

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("with burst counts in Redis, turn/start's burst stage and reservation run side by side; a burst refusal answers and gives back the reservation and slot", async () => {
  const server = await startRedisServer();
  if (server === null) throw new Error("redis-server not found");
  cleanup.push(() => server.kill());
  const redis = new Redis({ host: "127.0.0.1", port: server.port, enableOfflineQueue: false, lazyConnect: true });
  cleanup.push(async () => redis.disconnect());
  await redis.connect();
  const dir = await mkdtemp(join(tmpdir(), "tm-admit-burst-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const store = new WriteBehindCreditStore(await openCreditStore({ url: `sqlite:${join(dir, "credits.db")}` }));
  cleanup.push(() => store.close());
  const plan = testPlan("burst-alongside", { burstPerKey: 2, maxTurnsPerTenant: 3 });
  await store.putPlan(plan);
  const admission = new Admission({ store, prices: new PriceTable({ m: { inputPerMillion: 1_000_000, cachedInputPerMillion: 100_000, outputPerMillion: 1_000_000 } }), burst: new BurstLimiter({ redis, durationSec: 60 }) });
  const start = (turnId: string) => admission.admit({ kind: "turnStart", tenantId: "acme", userId: "ann", keyId: "k1", planId: plan.id, turnId, round: 0, model: "m", inputTokens: 100, maxOutputTokens: 100 });

  assert.equal((await start("t1")).admitted, true);
  assert.equal((await start("t2")).admitted, true);
  const refused = await start("t3");
  assert.equal(refused.admitted, false);
  assert.equal(!refused.admitted && refused.refusal.reason, "burstKey");
  // The refused turn holds nothing: two slots and two reservations, as admitted.
  assert.deepEqual((await store.slots("acme", Date.now())).map((s) => s.turnId).sort(), ["t1", "t2"]);
  assert.deepEqual((await store.heldReservations("acme")).map((r) => r.key).sort(), ["t1:0", "t2:0"]);
  const [report] = await store.reconcile("acme");
  assert.deepEqual(report?.problems, []);
  const held = (await store.heldReservations("acme")).reduce((s, r) => s + r.amount, 0);
  assert.ok(held > 0);
  assert.equal((await store.state("acme", plan, Date.now())).windows.primary?.reserved, held);
});
