import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { Admission, BurstLimiter, PriceTable, reservationKey, type CreditStore, type FundingState } from "@threadmesh/ratelimit";
import { testPlan } from "../../../../test/support/plans.ts";

/** Two handles on one credit database: two hosts (PostgreSQL) or the one embedded process (SQLite). */
export interface CreditStoreFixture {
  store: CreditStore;
  /** A second store on the same database, as another host would hold; the same store on SQLite. */
  other: CreditStore;
  /** When `store` decides from a mirror in memory: the durable store behind it, and a wait for its queued writes. */
  durable?: { store: CreditStore; flush(): Promise<void> };
  close(): Promise<void>;
}

const sortedGrants = (s: FundingState) => ({ ...s, grants: [...s.grants].sort((a, b) => (a.id < b.id ? -1 : 1)) });

const MODEL = "sim-model";
export const PRICES = new PriceTable({ [MODEL]: { inputPerMillion: 2_000_000, cachedInputPerMillion: 200_000, outputPerMillion: 8_000_000 } });
const T0 = Date.UTC(2026, 11, 3, 4, 59, 0);

let tenantSeq = 0;
const newTenant = (what: string) => `t-${what}-${process.pid}-${++tenantSeq}`;

async function assertReconciled(store: CreditStore, tenantId: string): Promise<void> {
  const [report] = await store.reconcile(tenantId);
  assert.ok(report, "no report");
  assert.deepEqual(report.problems, [], `reconcile of ${tenantId}`);
  assert.ok(report.totals.balance >= -report.totals.reservedInFlight);
}

/** The credit store's behaviour, run against SQLite and PostgreSQL. */
export function creditStoreBehaviour(open: () => Promise<CreditStoreFixture | null>): void {
  let fx: CreditStoreFixture;
  let skip = false;
  before(async () => {
    const f = await open();
    if (f === null) skip = true;
    else fx = f;
  });
  after(async () => {
    if (!skip) await fx.close();
  });

  test("plans round-trip, and the default plan exists", async (t) => {
    if (skip) return t.skip("no database");
    const p = testPlan("roundtrip", { primary: null, unlimited: false });
    await fx.store.putPlan(p);
    assert.deepEqual(await fx.other.getPlan("roundtrip"), p);
    await fx.store.putPlan({ ...p, name: "Renamed" });
    assert.equal((await fx.store.getPlan("roundtrip"))?.name, "Renamed");
    assert.equal((await fx.store.getPlan("default"))?.unlimited, true);
    assert.equal(await fx.store.getPlan("missing"), null);
  });

  test("a settlement repeated on the same host and on another host after a failover charges once", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("replay");
    const p = testPlan("replay", { primary: null, secondary: null });
    await fx.store.putPlan(p);
    assert.equal(await fx.store.topUp(tenantId, 100_000, "buy-1", T0), true);
    assert.equal(await fx.store.topUp(tenantId, 100_000, "buy-1", T0), false, "a repeated top-up key adds nothing");
    const admission = new Admission({ store: fx.store, prices: PRICES, burst: new BurstLimiter(), clock: () => T0 });
    const a = await admission.admit({ kind: "turnStart", tenantId, userId: "u", keyId: "k", planId: p.id, turnId: "turn-r", round: 0, model: MODEL, inputTokens: 1_000, maxOutputTokens: 1_000 });
    assert.equal(a.admitted, true);
    const usage = { inputTokens: 900, cachedInputTokens: 300, outputTokens: 400 };
    const settle = { tenantId, userId: "u", planId: p.id, turnId: "turn-r", round: 0, model: MODEL, usage };
    const first = await admission.settle(settle);
    assert.equal(first.duplicate, false);
    assert.equal(first.cost, PRICES.cost(MODEL, usage));
    assert.equal(first.balance, first.cost);
    const again = await admission.settle(settle);
    assert.equal(again.duplicate, true);
    const adopter = new Admission({ store: fx.other, prices: PRICES, burst: new BurstLimiter(), clock: () => T0 + 5_000 });
    assert.equal((await adopter.settle(settle)).duplicate, true);
    const state = await fx.other.state(tenantId, p, T0);
    assert.deepEqual(state.balance, { balance: 100_000 - first.cost, reserved: 0 });
    await assertReconciled(fx.store, tenantId);
  });

  test("concurrent settlements of one round on two hosts debit once", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("concurrent");
    const p = testPlan("concurrent", { primary: null, secondary: null });
    await fx.store.putPlan(p);
    await fx.store.topUp(tenantId, 1_000_000, "buy", T0);
    await fx.store.addGrant(tenantId, { id: "g", amount: 700, expiresAtMs: T0 + 3_600_000 }, T0);
    const r = await fx.store.reserve({ key: reservationKey("turn-c", 0), tenantId, userId: "u", turnId: "turn-c", plan: p, amount: 20_000, newTurn: true, member: false, nowMs: T0, slotTtlMs: 60_000, reservationTtlMs: 600_000 });
    assert.equal(r.decision.kind, "admit");
    const usage = { inputTokens: 2_000, cachedInputTokens: 0, outputTokens: 1_000 };
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 === 0 ? fx.store : fx.other).settle({ key: reservationKey("turn-c", 0), tenantId, userId: "u", turnId: "turn-c", round: 0, plan: p, model: MODEL, price: PRICES.priceOf(MODEL), usage, nowMs: T0 + i }),
      ),
    );
    const charged = results.filter((x) => !x.duplicate);
    assert.equal(charged.length, 1);
    const cost = PRICES.cost(MODEL, usage);
    assert.deepEqual(charged[0]!.grants, [{ grantId: "g", amount: 700 }]);
    assert.equal(charged[0]!.balance, cost - 700);
    const [report] = await fx.store.reconcile(tenantId);
    assert.equal(report!.totals.usageEvents, 1);
    assert.equal(report!.totals.billed, cost);
    assert.equal(report!.totals.balance, 1_000_000 - (cost - 700));
    await assertReconciled(fx.store, tenantId);
  });

  test("100 parallel turn/start of one tenant never exceed its concurrency limit", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("parallel");
    const p = testPlan("parallel", { unlimited: true, primary: null, secondary: null, maxTurnsPerTenant: 7, maxTurnsPerUser: 5 });
    await fx.store.putPlan(p);
    // Two routers admitting at once (two stores on PostgreSQL).
    const routers = [fx.store, fx.other].map((store) => new Admission({ store, prices: PRICES, burst: new BurstLimiter() }));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        routers[i % 2]!.admit({ kind: "turnStart", tenantId, userId: `user-${i % 3}`, keyId: "k", planId: p.id, turnId: `turn-${i}`, round: 0, model: MODEL, inputTokens: 100, maxOutputTokens: 100 }),
      ),
    );
    const admitted = results.filter((r) => r.admitted).length;
    assert.equal(admitted, 7);
    const reasons = new Set(results.flatMap((r) => (r.admitted ? [] : [r.refusal.reason])));
    for (const reason of reasons) assert.ok(reason === "tenantConcurrency" || reason === "userConcurrency", reason);
    assert.equal(await fx.store.activeTurns(tenantId, Date.now()), 7);
    // Turns ending free their slots for new ones.
    const ended = results.flatMap((r, i) => (r.admitted ? [`turn-${i}`] : [])).slice(0, 3);
    for (const turnId of ended) await routers[0]!.endTurn(tenantId, turnId);
    const more = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        routers[i % 2]!.admit({ kind: "turnStart", tenantId, userId: `user-${i % 3}`, keyId: "k", planId: p.id, turnId: `more-${i}`, round: 0, model: MODEL, inputTokens: 100, maxOutputTokens: 100 }),
      ),
    );
    assert.equal(more.filter((r) => r.admitted).length, 3);
    assert.equal(await fx.store.activeTurns(tenantId, Date.now()), 7);
  });

  test("a slot of a turn nobody renews lapses; a renewed slot and a later round keep it", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("lease");
    const p = testPlan("lease", { unlimited: true, primary: null, secondary: null, maxTurnsPerTenant: 1 });
    await fx.store.putPlan(p);
    let now = T0;
    const admission = new Admission({ store: fx.store, prices: PRICES, burst: new BurstLimiter(), clock: () => now, slotTtlMs: 60_000 });
    const start = (turnId: string) => admission.admit({ kind: "turnStart", tenantId, userId: "u", keyId: "k", planId: p.id, turnId, round: 0, model: MODEL, inputTokens: 1, maxOutputTokens: 1 });
    assert.equal((await start("a")).admitted, true);
    assert.equal((await start("b")).admitted, false);
    now += 50_000;
    await admission.renewSlot(tenantId, "u", "a");
    now += 50_000;
    // A later round of turn a (on its adopter, say) renews the same slot.
    const round = await admission.admit({ kind: "round", tenantId, userId: "u", keyId: "k", planId: p.id, turnId: "a", round: 1, model: MODEL, inputTokens: 1, maxOutputTokens: 1 });
    assert.equal(round.admitted, true);
    now += 50_000;
    assert.equal((await start("b")).admitted, false, "the renewed slot still counts");
    now += 60_001;
    assert.equal((await start("b")).admitted, true, "the lapsed slot no longer counts");
  });

  test("an unsettled reservation is given back after its lifetime; releasing gives it back at once", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("expiry");
    const p = testPlan("expiry", { primary: null, secondary: null });
    await fx.store.putPlan(p);
    await fx.store.topUp(tenantId, 10_000, "buy", T0);
    const base = { tenantId, userId: "u", plan: p, newTurn: false, member: false, slotTtlMs: 60_000, reservationTtlMs: 1_000 };
    assert.equal((await fx.store.reserve({ ...base, key: "x:0", turnId: "x", amount: 8_000, nowMs: T0 })).decision.kind, "admit");
    assert.equal((await fx.store.reserve({ ...base, key: "y:0", turnId: "y", amount: 8_000, nowMs: T0 + 500 })).decision.kind, "refuse");
    assert.equal((await fx.store.reserve({ ...base, key: "y:0", turnId: "y", amount: 8_000, nowMs: T0 + 1_000 })).decision.kind, "admit");
    await fx.store.release(tenantId, "y:0");
    assert.deepEqual((await fx.store.state(tenantId, p, T0 + 1_000)).balance, { balance: 10_000, reserved: 0 });
    await assertReconciled(fx.store, tenantId);
  });

  test("burst: a key over its requests per second is refused first, then the tenant over its own; turn/steer passes burst only", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("burst");
    const p = testPlan("burst", { unlimited: true, primary: null, secondary: null, burstPerKey: 3, burstPerTenant: 5 });
    await fx.store.putPlan(p);
    // A minute per counting window, so the test never straddles two.
    const admission = new Admission({ store: fx.store, prices: PRICES, burst: new BurstLimiter({ durationSec: 60 }) });
    const steer = (keyId: string, n: number) => admission.admit({ kind: "turnSteer", tenantId, userId: "u", keyId, planId: p.id, turnId: `s-${keyId}-${n}`, round: 0, model: MODEL, inputTokens: 1, maxOutputTokens: 1 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await steer("key-a", i));
    assert.deepEqual(results.map((r) => r.admitted), [true, true, true, false]);
    const refused = results[3]!;
    assert.ok(!refused.admitted && refused.refusal.reason === "burstKey" && refused.refusal.retryAfterMs! > 0);
    if (!refused.admitted) {
      assert.equal(refused.refusal.rateLimits.rateLimitReachedType, "rate_limit_reached");
      assert.match(refused.refusal.message, /per second with this API key \(limit 3\)/);
    }
    // key-a's requests counted for the tenant too (4 of 5): key-b gets one more, then the tenant limit refuses.
    assert.equal((await steer("key-b", 0)).admitted, true);
    const tenantRefused = await steer("key-b", 1);
    assert.ok(!tenantRefused.admitted && tenantRefused.refusal.reason === "burstTenant");
    assert.equal(await fx.store.activeTurns(tenantId, Date.now()), 0, "steers take no slot");
  });

  test("plan windows: settled usage shows as usedPercent until the window ends; a used-up window refuses until resetsAt, then admits again", async (t) => {
    if (skip) return t.skip("no database");
    const tenantId = newTenant("windows");
    const p = testPlan("windows", { primary: { windowMins: 300, budget: 10_000 }, secondary: { windowMins: 10_080, budget: 1_000_000 } });
    await fx.store.putPlan(p);
    const windowMs = 300 * 60_000;
    let now = Math.floor(T0 / windowMs) * windowMs + 60_000;
    const admission = new Admission({ store: fx.store, prices: PRICES, burst: new BurstLimiter(), clock: () => now });
    const turn = (turnId: string) => admission.admit({ kind: "turnStart", tenantId, userId: "u", keyId: "k", planId: p.id, turnId, round: 0, model: MODEL, inputTokens: 1_000, maxOutputTokens: 500 });
    assert.equal((await turn("w1")).admitted, true);
    // 1,000 input tokens at 2 credits/M and 500 output at 8 credits/M: 6,000 micro-credits, 60 % of the window.
    const settled = await admission.settle({ tenantId, userId: "u", planId: p.id, turnId: "w1", round: 0, model: MODEL, usage: { inputTokens: 1_000, cachedInputTokens: 0, outputTokens: 500 } });
    await admission.endTurn(tenantId, "w1");
    assert.equal(settled.window, 6_000);
    const resetsAt = (Math.floor(now / windowMs) * windowMs + windowMs) / 1000;
    assert.deepEqual(settled.rateLimits.primary, { usedPercent: 60, windowDurationMins: 300, resetsAt });
    assert.equal(settled.rateLimits.secondary?.usedPercent, 0);
    // The next round's estimate (6,000) does not fit the 4,000 left, and there are no credits: refused until the reset.
    const refused = await turn("w2");
    assert.equal(refused.admitted, false);
    if (refused.admitted) return;
    assert.equal(refused.refusal.reason, "primaryWindow");
    assert.equal(refused.refusal.retryAfterMs, resetsAt * 1000 - now);
    assert.equal(refused.refusal.rateLimits.rateLimitReachedType, "workspace_owner_usage_limit_reached");
    now = resetsAt * 1000 - 1;
    assert.equal((await turn("w2")).admitted, false, "still the same window");
    now = resetsAt * 1000;
    const next = await turn("w2");
    assert.equal(next.admitted, true, "a new window");
    if (!next.admitted) return;
    assert.deepEqual(next.rateLimits.primary, { usedPercent: 0, windowDurationMins: 300, resetsAt: resetsAt + windowMs / 1000 });
    await assertReconciled(fx.store, tenantId);
  });

  test("property: under any sequence of top-ups, grants, admissions, settlements (replayed too), releases and clock moves the ledgers reconcile, the balance never falls below −(reservations in flight), grants pay before credits and never after expiry", async (t) => {
    if (skip) return t.skip("no database");
    const p = testPlan("prop", { primary: { windowMins: 300, budget: 3_000 }, secondary: { windowMins: 10_080, budget: 8_000 } });
    await fx.store.putPlan(p);
    const op = fc.oneof(
      fc.record({ kind: fc.constant("topUp" as const), amount: fc.integer({ min: 1, max: 20_000 }) }),
      fc.record({ kind: fc.constant("grant" as const), amount: fc.integer({ min: 1, max: 10_000 }), expiresInMs: fc.integer({ min: 1, max: 4 * 3_600_000 }) }),
      fc.record({ kind: fc.constant("admit" as const), input: fc.integer({ min: 0, max: 3_000 }), maxOut: fc.integer({ min: 0, max: 1_000 }), newTurn: fc.boolean() }),
      fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), fraction: fc.double({ min: 0, max: 1.2, noNaN: true }), other: fc.boolean() }),
      fc.record({ kind: fc.constant("replay" as const), pick: fc.nat(), other: fc.boolean() }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 3 * 3_600_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const tenantId = newTenant("prop");
        let now = T0;
        let seq = 0;
        const open: Array<{ turnId: string; round: number; input: number; maxOut: number }> = [];
        const settled: Array<{ turnId: string; round: number; usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number } }> = [];
        for (const o of ops) {
          const store = "other" in o && o.other ? fx.other : fx.store;
          switch (o.kind) {
            case "topUp":
              await fx.store.topUp(tenantId, o.amount, `buy-${++seq}`, now);
              break;
            case "grant":
              await fx.store.addGrant(tenantId, { id: `g-${++seq}`, amount: o.amount, expiresAtMs: now + o.expiresInMs }, now);
              break;
            case "admit": {
              const turnId = `turn-${++seq}`;
              const r = await fx.store.reserve({
                key: reservationKey(turnId, 0),
                tenantId,
                userId: "u",
                turnId,
                plan: p,
                amount: PRICES.estimate(MODEL, o.input, o.maxOut),
                newTurn: o.newTurn,
                member: false,
                nowMs: now,
                slotTtlMs: 60_000,
                reservationTtlMs: 3_600_000,
              });
              if (r.decision.kind === "admit") open.push({ turnId, round: 0, input: o.input, maxOut: o.maxOut });
              break;
            }
            case "settle": {
              if (open.length === 0) break;
              const [r] = open.splice(o.pick % open.length, 1);
              // Usage at most the estimate mostly; past it sometimes (a round that overran its reservation).
              const usage = { inputTokens: Math.floor(r!.input * Math.min(1, o.fraction)), cachedInputTokens: 0, outputTokens: Math.floor(r!.maxOut * o.fraction) };
              const before = await fx.store.state(tenantId, p, now);
              const res = await store.settle({ key: reservationKey(r!.turnId, r!.round), tenantId, userId: "u", turnId: r!.turnId, round: r!.round, plan: p, model: MODEL, price: PRICES.priceOf(MODEL), usage, nowMs: now });
              assert.equal(res.duplicate, false);
              assert.equal(res.cost, PRICES.cost(MODEL, usage));
              for (const g of res.grants) {
                const grant = before.grants.find((x) => x.id === g.grantId);
                assert.ok(grant !== undefined && grant.expiresAtMs > now, `grant ${g.grantId} spent after its expiry`);
              }
              if (res.balance > 0) {
                // Credits pay only once no live grant has anything left beyond other reservations.
                for (const g of res.state.grants) if (g.expiresAtMs > now) assert.equal(g.remaining - g.reserved, 0, `credits spent while grant ${g.id} had ${g.remaining - g.reserved}`);
              }
              settled.push({ turnId: r!.turnId, round: r!.round, usage });
              break;
            }
            case "replay": {
              if (settled.length === 0) break;
              const s = settled[o.pick % settled.length]!;
              const res = await store.settle({ key: reservationKey(s.turnId, s.round), tenantId, userId: "u", turnId: s.turnId, round: s.round, plan: p, model: MODEL, price: PRICES.priceOf(MODEL), usage: s.usage, nowMs: now });
              assert.equal(res.duplicate, true);
              break;
            }
            case "release": {
              if (open.length === 0) break;
              const [r] = open.splice(o.pick % open.length, 1);
              await fx.store.release(tenantId, reservationKey(r!.turnId, r!.round));
              break;
            }
            case "tick":
              now += o.ms;
              break;
          }
          const [report] = await fx.store.reconcile(tenantId);
          if (report === undefined) continue;
          assert.deepEqual(report.problems, []);
          assert.ok(report.totals.balance >= -report.totals.reservedInFlight, `balance ${report.totals.balance} below −${report.totals.reservedInFlight}`);
          const state = await fx.store.state(tenantId, p, now);
          for (const g of state.grants) assert.ok(g.remaining >= 0 && g.reserved >= 0 && g.reserved <= g.remaining);
          for (const w of [state.windows.primary, state.windows.secondary]) if (w !== null) assert.ok(w.reserved >= 0);
          if (fx.durable !== undefined) {
            // The mirror the decisions were served from is what the store holds once its writes have run.
            await fx.durable.flush();
            assert.deepEqual(sortedGrants(state), sortedGrants(await fx.durable.store.state(tenantId, p, now)));
            assert.deepEqual(new Set(await fx.store.slots(tenantId, now)), new Set(await fx.durable.store.slots(tenantId, now)));
          }
        }
      }),
      { numRuns: 40 },
    );
  });
}
