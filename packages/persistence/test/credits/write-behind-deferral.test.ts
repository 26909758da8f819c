import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { WriteBehindCreditStore, reservationKey } from "@threadmesh/ratelimit";
import { testPlan } from "../../../../test/support/plans.ts";
import { PRICES } from "./credit-store-behaviour.ts";
import { openCreditStore } from "../../src/index.ts";

test("an admission from the mirror writes nothing before it answers; its reservation reaches the database before the settlement that follows it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tm-credits-defer-"));
  const durable = await openCreditStore({ url: `sqlite:${join(dir, "credits.db")}` });
  const errors: unknown[] = [];
  const store = new WriteBehindCreditStore(durable, { onWriteError: (err) => errors.push(err) });
  try {
    const plan = testPlan("defer", { primary: null, secondary: null });
    await store.putPlan(plan);
    const now = Date.now();
    await store.topUp("acme", 1_000_000, "first", now);
    const reserve = (turnId: string) =>
      store.reserve({ key: reservationKey(turnId, 0), tenantId: "acme", userId: "ann", turnId, plan, amount: 1_000, newTurn: true, member: false, nowMs: now, slotTtlMs: 60_000, reservationTtlMs: 60_000 });
    assert.equal((await reserve("t1")).decision.kind, "admit");
    assert.equal((await reserve("t2")).decision.kind, "admit");
    // Decided from memory: the database has not been written yet, and the mirror counts both.
    assert.deepEqual(await durable.heldReservations("acme"), []);
    assert.equal((await store.state("acme", plan, now)).balance.reserved, 2_000);
    // A settlement waits for its transaction, and the reservations queued before it go first, in order.
    const settled = await store.settle({ key: reservationKey("t1", 0), tenantId: "acme", userId: "ann", turnId: "t1", round: 0, plan, model: "sim-model", price: PRICES.priceOf("sim-model"), usage: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 10 }, nowMs: now });
    assert.equal(settled.duplicate, false);
    assert.deepEqual((await durable.heldReservations("acme")).map((r) => r.key), ["t2:0"]);
    assert.equal((await durable.state("acme", plan, now)).balance.reserved, 1_000);
    const [report] = await store.reconcile("acme");
    assert.deepEqual(report?.problems, []);
    assert.deepEqual(errors, []);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
