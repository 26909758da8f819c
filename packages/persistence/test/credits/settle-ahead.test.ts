import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { Admission, BurstLimiter, SlicedCreditStore, rateLimitSnapshot, reservationKey, type CreditStore, type Plan, type SettleRequest, type SettleResult } from "@threadmesh/ratelimit";
import { eventually } from "../../../../test/support/eventually.ts";
import { createTestDatabase, type TestDatabase } from "../../../../test/support/postgres.ts";
import { testPlan } from "../../../../test/support/plans.ts";
import { openCreditStore } from "../../src/index.ts";
import type { KyselyCreditStore } from "../../src/credits/kysely-credit-store.ts";
import { PRICES } from "./credit-store-behaviour.ts";

const MODEL = "sim-model";
const plan: Plan = testPlan("ahead", { primary: { windowMins: 300, budget: 40_000 }, secondary: { windowMins: 10_080, budget: 120_000 }, maxTurnsPerTenant: 8, maxTurnsPerUser: 4 });
const usage = { inputTokens: 300, cachedInputTokens: 0, outputTokens: 100 };
const COST = 300 * 2 + 100 * 8;
let db: TestDatabase;
let durable: KyselyCreditStore;
const stores: KyselyCreditStore[] = [];
let seq = 0;

function host(id: string, store: CreditStore = durable, errors: unknown[] = []): { sliced: SlicedCreditStore; admission: Admission; errors: unknown[] } {
  const sliced = new SlicedCreditStore(store, { hostId: id, sliceRounds: 8, settleRetryMs: 5, onError: (err) => errors.push(err) });
  return { sliced, admission: new Admission({ store: sliced, prices: PRICES, burst: new BurstLimiter() }), errors };
}

async function fundedTenant(balance = 2_000_000, grant = 50_000): Promise<string> {
  const tenantId = `ahead-${process.pid}-${++seq}`;
  const now = Date.now();
  await durable.topUp(tenantId, balance, "first", now);
  if (grant > 0) await durable.addGrant(tenantId, { id: "g1", amount: grant, expiresAtMs: now + 3_600_000 }, now);
  return tenantId;
}

async function reconciled(tenantId: string) {
  const [report] = await durable.reconcile(tenantId);
  assert.ok(report);
  assert.deepEqual(report.problems, []);
  assert.ok(report.totals.balance >= -(report.totals.reservedInFlight + report.totals.slicedInFlight));
  return report;
}

/** Admits round 0 (a reservation in the store) and waits for the slice the later rounds come from. */
async function started(h: ReturnType<typeof host>, tenantId: string, turnId: string): Promise<void> {
  const r = await h.admission.admit({ kind: "turnStart", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: 0, model: MODEL, inputTokens: 400, maxOutputTokens: 200 });
  assert.equal(r.admitted, true);
  await eventually(() => h.sliced.sliced(tenantId).slices > 0, "the host takes a slice");
}

function round(h: ReturnType<typeof host>, tenantId: string, turnId: string, r: number) {
  return h.admission.admit({ kind: "round", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: r, model: MODEL, inputTokens: 400, maxOutputTokens: 200 });
}

function settle(h: ReturnType<typeof host>, tenantId: string, turnId: string, r: number, ahead: boolean) {
  return h.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId, round: r, model: MODEL, usage }, { ahead });
}

describe("settling a round from a budget slice ahead of the store's write (PostgreSQL)", () => {
  before(async () => {
    const created = await createTestDatabase();
    if (created === null) throw new Error("PostgreSQL unreachable (TEST_POSTGRES_URL)");
    db = created;
    durable = await openCreditStore({ url: db.url });
    stores.push(durable);
    await durable.putPlan(plan);
  });
  after(async () => {
    for (const s of stores) await s.close();
    await db?.drop();
  });

  test("the answer comes from the slice's figures, matches what the store then holds, and the round is charged once", async () => {
    const a = host("a");
    const tenantId = await fundedTenant();
    await started(a, tenantId, "t1");
    await settle(a, tenantId, "t1", 0, false);
    assert.equal((await round(a, tenantId, "t1", 1)).admitted, true);
    const s = await settle(a, tenantId, "t1", 1, true);
    assert.equal(s.duplicate, false);
    assert.equal(s.cost, COST);
    // A repeat on this host waits for the write and is then a duplicate; so is one on another host after it landed.
    assert.equal((await settle(a, tenantId, "t1", 1, true)).duplicate, true);
    await a.sliced.idle();
    const b = host("b");
    assert.equal((await settle(b, tenantId, "t1", 1, false)).duplicate, true);
    const stored = rateLimitSnapshot(await durable.state(tenantId, plan, Date.now()), Date.now());
    assert.deepEqual(s.rateLimits.credits, stored.credits);
    assert.equal(s.rateLimits.primary?.usedPercent, stored.primary?.usedPercent);
    assert.equal(s.rateLimits.secondary?.usedPercent, stored.secondary?.usedPercent);
    const report = await reconciled(tenantId);
    assert.equal(report.totals.usageEvents, 2);
    assert.equal(report.totals.billed, 2 * COST);
    await a.admission.endTurn(tenantId, "t1");
    await a.sliced.returnAll();
    await b.sliced.returnAll();
    assert.deepEqual(a.errors, []);
    assert.deepEqual(await durable.heldReservations(tenantId), []);
    await reconciled(tenantId);
  });

  test("giving the slices back at shutdown first writes the settlements still on their way", async () => {
    const a = host("c");
    const tenantId = await fundedTenant();
    await started(a, tenantId, "t1");
    for (let r = 1; r <= 4; r++) assert.equal((await round(a, tenantId, "t1", r)).admitted, true);
    for (let r = 1; r <= 4; r++) assert.equal((await settle(a, tenantId, "t1", r, true)).duplicate, false);
    await a.admission.release(tenantId, "t1", 0);
    await a.admission.endTurn(tenantId, "t1");
    await a.sliced.returnAll();
    assert.deepEqual(a.errors, []);
    assert.deepEqual(await durable.heldReservations(tenantId), [], "the slice went back after its rounds were charged");
    const report = await reconciled(tenantId);
    assert.equal(report.totals.usageEvents, 4);
    assert.equal(report.totals.billed, 4 * COST);
  });

  test("a write that fails is tried again and lands once", async () => {
    let failures = 2;
    const settleFlakily = async (req: SettleRequest): Promise<SettleResult> => {
      if (req.slice !== undefined && failures > 0) {
        failures--;
        throw new Error("connection reset");
      }
      return durable.settle(req);
    };
    const flaky = new Proxy(durable, {
      get: (target, prop) => (prop === "settle" ? settleFlakily : (Reflect.get(target, prop) as unknown as { bind?: (t: unknown) => unknown })?.bind?.(target)),
    }) as CreditStore;
    const a = host("d", flaky);
    const tenantId = await fundedTenant();
    await started(a, tenantId, "t1");
    assert.equal((await round(a, tenantId, "t1", 1)).admitted, true);
    assert.equal((await settle(a, tenantId, "t1", 1, true)).duplicate, false);
    await a.sliced.idle();
    assert.equal(failures, 0);
    assert.deepEqual(a.errors, []);
    const report = await reconciled(tenantId);
    assert.equal(report.totals.usageEvents, 1);
    await a.admission.release(tenantId, "t1", 0);
    await a.admission.endTurn(tenantId, "t1");
    await a.sliced.returnAll();
    assert.deepEqual(await durable.heldReservations(tenantId), []);
  });

  test("property: rounds settled ahead or in the store, replayed and released, are each charged exactly once and the ledgers agree", async () => {
    const op = fc.record({ turn: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom("round", "settle", "settleAhead", "settleAhead", "replay", "release"), out: fc.integer({ min: 0, max: 200 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 20 }), fc.integer({ min: 2_000, max: 60_000 }), async (ops, balance) => {
        const h = host(`p${seq}`);
        const tenantId = await fundedTenant(balance, 5_000);
        const turns = new Map<string, { next: number; open: number | null }>();
        const settled = new Map<string, number>();
        for (const o of ops) {
          const turnId = `turn-${o.turn}`;
          const t = turns.get(turnId) ?? { next: 0, open: null };
          turns.set(turnId, t);
          if (o.kind === "round" && t.open === null) {
            const r = await h.admission.admit({ kind: t.next === 0 ? "turnStart" : "round", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: t.next, model: MODEL, inputTokens: 200, maxOutputTokens: 100 });
            if (r.admitted) t.open = t.next;
          } else if ((o.kind === "settle" || o.kind === "settleAhead") && t.open !== null) {
            const u = { inputTokens: 200, cachedInputTokens: 0, outputTokens: Math.min(100, o.out) };
            const s = await h.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId, round: t.open, model: MODEL, usage: u }, { ahead: o.kind === "settleAhead" });
            assert.equal(s.duplicate, false);
            settled.set(reservationKey(turnId, t.open), s.cost);
            t.next = t.open + 1;
            t.open = null;
          } else if (o.kind === "replay" && t.next > 0) {
            const s = await h.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId, round: t.next - 1, model: MODEL, usage: { inputTokens: 200, cachedInputTokens: 0, outputTokens: o.out } }, { ahead: true });
            assert.equal(s.duplicate, true);
          } else if (o.kind === "release" && t.open !== null) {
            await h.admission.release(tenantId, turnId, t.open);
            t.open = null;
          }
        }
        await h.sliced.idle();
        const [mid] = await durable.reconcile(tenantId);
        assert.deepEqual(mid?.problems, []);
        assert.ok(mid!.totals.balance >= -(mid!.totals.reservedInFlight + mid!.totals.slicedInFlight));
        for (const [turnId, t] of turns) {
          if (t.open !== null) await h.admission.release(tenantId, turnId, t.open);
          await h.admission.endTurn(tenantId, turnId);
        }
        await h.sliced.returnAll();
        assert.deepEqual(h.errors, []);
        const report = await reconciled(tenantId);
        assert.equal(report.totals.slicedInFlight, 0);
        assert.deepEqual(await durable.heldReservations(tenantId), []);
        assert.equal(report.totals.usageEvents, settled.size);
        assert.equal(report.totals.billed, [...settled.values()].reduce((s, c) => s + c, 0));
      }),
      { numRuns: 10 },
    );
  });
});
