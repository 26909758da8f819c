import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { Admission, BurstLimiter, SlicedCreditStore, reservationKey, type CreditStore, type Plan } from "@threadmesh/ratelimit";
import { eventually } from "../../../../test/support/eventually.ts";
import { createTestDatabase, type TestDatabase } from "../../../../test/support/postgres.ts";
import { testPlan } from "../../../../test/support/plans.ts";
import { openCreditStore } from "../../src/index.ts";
import type { KyselyCreditStore } from "../../src/credits/kysely-credit-store.ts";
import { PRICES } from "./credit-store-behaviour.ts";

const MODEL = "sim-model";
const plan: Plan = testPlan("sliced", { primary: { windowMins: 300, budget: 40_000 }, secondary: { windowMins: 10_080, budget: 120_000 }, maxTurnsPerTenant: 8, maxTurnsPerUser: 4 });
let db: TestDatabase;
const stores: KyselyCreditStore[] = [];
let seq = 0;

async function host(id: string, opts: { clock?: () => number; idleMs?: number; durable?: KyselyCreditStore } = {}): Promise<{ sliced: SlicedCreditStore; admission: Admission }> {
  let durable = opts.durable;
  if (durable === undefined) {
    durable = await openCreditStore({ url: db.url, migrate: false });
    stores.push(durable);
  }
  const sliced = new SlicedCreditStore(durable, { hostId: id, sliceRounds: 8, ...opts, onError: (err) => assert.fail(`background write failed: ${String(err)}`) });
  return { sliced, admission: new Admission({ store: sliced, prices: PRICES, burst: new BurstLimiter(), ...(opts.clock ? { clock: opts.clock } : {}) }) };
}

async function fundedTenant(credits: CreditStore, balance = 2_000_000, grant = 50_000): Promise<string> {
  const tenantId = `sliced-${process.pid}-${++seq}`;
  const now = Date.now();
  await credits.topUp(tenantId, balance, "first", now);
  if (grant > 0) await credits.addGrant(tenantId, { id: "g1", amount: grant, expiresAtMs: now + 3_600_000 }, now);
  return tenantId;
}

async function reconciled(store: CreditStore, tenantId: string) {
  const [report] = await store.reconcile(tenantId);
  assert.ok(report);
  assert.deepEqual(report.problems, []);
  assert.ok(report.totals.balance >= -(report.totals.reservedInFlight + report.totals.slicedInFlight));
  return report;
}

describe("budget slices over PostgreSQL (hosts sharing the credit database)", () => {
  before(async () => {
    const created = await createTestDatabase();
    if (created === null) throw new Error("PostgreSQL unreachable (TEST_POSTGRES_URL)");
    db = created;
    const first = await openCreditStore({ url: db.url });
    stores.push(first);
    await first.putPlan(plan);
  });
  after(async () => {
    for (const s of stores) await s.close();
    await db?.drop();
  });

  test("rounds are admitted from the host's slice without a reservation of their own, settle once, and the ledgers agree", async () => {
    const a = await host("a");
    const tenantId = await fundedTenant(a.sliced);
    const round = (turnId: string, r: number) => a.admission.admit({ kind: r === 0 ? "turnStart" : "round", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: r, model: MODEL, inputTokens: 400, maxOutputTokens: 200 });
    assert.equal((await round("t1", 0)).admitted, true);
    await eventually(() => a.sliced.sliced(tenantId).slices > 0, "the host takes a slice of the tenant's budget");
    for (let r = 1; r <= 5; r++) assert.equal((await round("t1", r)).admitted, true);
    const held = (await a.sliced.heldReservations(tenantId)).map((h) => h.key);
    assert.ok(held.includes("t1:0"));
    assert.ok(held.some((k) => k.startsWith("slice/a/")), "the slice is a held reservation in the store");
    assert.ok(!held.some((k) => /^t1:[1-5]$/.test(k)), "rounds from the slice write no reservation");
    const usage = { inputTokens: 300, cachedInputTokens: 0, outputTokens: 100 };
    for (let r = 0; r <= 5; r++) {
      const s = await a.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId: "t1", round: r, model: MODEL, usage });
      assert.equal(s.duplicate, false);
    }
    // Replayed on this host and on another one after a failover: nothing more is charged.
    const b = await host("b");
    for (const h of [a, b]) assert.equal((await h.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId: "t1", round: 3, model: MODEL, usage })).duplicate, true);
    await a.sliced.idle();
    const report = await reconciled(a.sliced, tenantId);
    assert.equal(report.totals.usageEvents, 6);
    assert.equal(report.totals.billed, 6 * (300 * 2 + 100 * 8));
    // The grant paid before credits: the windows and the grant cover it all, the balance is untouched.
    assert.equal(report.totals.fromBalance, 0);
    await a.admission.endTurn(tenantId, "t1");
    await a.sliced.returnAll();
    await b.sliced.returnAll();
    assert.deepEqual(await a.sliced.heldReservations(tenantId), []);
    await reconciled(a.sliced, tenantId);
  });

  test("a user's next turn on the host takes the spare slot and its first round from the slice; the limit still counts it", async () => {
    const a = await host("c");
    const tenantId = await fundedTenant(a.sliced);
    const start = (turnId: string) => a.admission.admit({ kind: "turnStart", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: 0, model: MODEL, inputTokens: 400, maxOutputTokens: 200 });
    assert.equal((await start("t1")).admitted, true);
    await eventually(() => a.sliced.sliced(tenantId).slices > 0, "a slice");
    await a.admission.endTurn(tenantId, "t1");
    assert.equal(a.sliced.sliced(tenantId).spares, 1);
    assert.equal((await start("t2")).admitted, true);
    assert.ok(!(await a.sliced.heldReservations(tenantId)).some((h) => h.key === "t2:0"), "t2's first round came from the slice");
    await eventually(async () => (await a.sliced.slots(tenantId, Date.now())).some((s) => s.turnId === "t2"), "the spare slot is now t2's");
    // The user's limit (4) counts t2: three more are admitted, the fourth refused.
    for (const id of ["t3", "t4", "t5"]) assert.equal((await start(id)).admitted, true);
    const refused = await start("t6");
    assert.equal(!refused.admitted && refused.refusal.reason, "userConcurrency");
    for (const id of ["t2", "t3", "t4", "t5"]) await a.admission.release(tenantId, id, 0);
    for (const id of ["t2", "t3", "t4", "t5"]) await a.admission.endTurn(tenantId, id);
    await a.sliced.returnAll();
    assert.deepEqual(await a.sliced.slots(tenantId, Date.now()), []);
    await reconciled(a.sliced, tenantId);
  });

  test("a turn/start that arrives while the user's last turn's end is still being written takes its spare: no store round trip, one slot throughout", async () => {
    const a = await host("c2");
    const tenantId = await fundedTenant(a.sliced);
    const start = (turnId: string) => a.admission.admit({ kind: "turnStart", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: 0, model: MODEL, inputTokens: 400, maxOutputTokens: 200 });
    assert.equal((await start("t1")).admitted, true);
    await eventually(() => a.sliced.sliced(tenantId).slices > 0, "a slice");
    // The end is not awaited: its slot row is still on its way to the spare's id.
    const ending = a.admission.endTurn(tenantId, "t1");
    assert.equal(a.sliced.sliced(tenantId).spares, 1, "the spare is there before the store has it");
    assert.equal((await start("t2")).admitted, true);
    assert.equal(a.sliced.sliced(tenantId).spares, 0, "t2 took it");
    await ending;
    assert.ok(!(await a.sliced.heldReservations(tenantId)).some((h) => h.key === "t2:0"), "t2's first round came from the slice");
    await eventually(async () => (await a.sliced.slots(tenantId, Date.now())).some((s) => s.turnId === "t2"), "the spare slot is now t2's");
    assert.equal((await a.sliced.slots(tenantId, Date.now())).length, 1, "one slot: t1's row became t2's");
    await a.admission.release(tenantId, "t2", 0);
    await a.admission.endTurn(tenantId, "t2");
    await a.sliced.returnAll();
    assert.deepEqual(await a.sliced.slots(tenantId, Date.now()), []);
    await reconciled(a.sliced, tenantId);
  });

  test("a slice held by a host that died comes back when its lease expires", async () => {
    const a = await host("dead", { idleMs: 3_600_000 });
    const tenantId = await fundedTenant(a.sliced);
    assert.equal((await a.admission.admit({ kind: "turnStart", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId: "t1", round: 0, model: MODEL, inputTokens: 400, maxOutputTokens: 200 })).admitted, true);
    await eventually(() => a.sliced.sliced(tenantId).slices > 0, "a slice");
    const slice = (await a.sliced.heldReservations(tenantId)).find((h) => h.key.startsWith("slice/dead/"));
    assert.ok(slice);
    // Host "dead" is gone (nothing more from it). Past the lease, the next admission on another host releases its slice.
    const later = slice.expiresAtMs + 1;
    const b = await host("live", { clock: () => later });
    assert.equal((await b.admission.admit({ kind: "turnStart", tenantId, userId: "bob", keyId: "k", planId: plan.id, turnId: "t9", round: 0, model: MODEL, inputTokens: 400, maxOutputTokens: 200 })).admitted, true);
    assert.ok(!(await b.sliced.heldReservations(tenantId)).some((h) => h.key === slice.key));
    await b.sliced.idle();
    await reconciled(b.sliced, tenantId);
    await b.sliced.returnAll();
    await a.sliced.returnAll();
  });

  test("property: two hosts admitting, settling (replayed too) and releasing rounds from slices never break the ledgers or charge twice", async () => {
    const op = fc.record({ host: fc.integer({ min: 0, max: 1 }), turn: fc.integer({ min: 0, max: 3 }), kind: fc.constantFrom("round", "settle", "settle", "replay", "release"), out: fc.integer({ min: 0, max: 400 }) });
    // Two hosts' connections, each run a new pair of hosts over them.
    const pools = [await openCreditStore({ url: db.url, migrate: false }), await openCreditStore({ url: db.url, migrate: false })];
    stores.push(...pools);
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24 }), fc.integer({ min: 2_000, max: 60_000 }), async (ops, balance) => {
        const hosts = [await host(`p${seq}a`, { durable: pools[0]! }), await host(`p${seq}b`, { durable: pools[1]! })];
        const tenantId = await fundedTenant(hosts[0]!.sliced, balance, 5_000);
        const rounds = new Map<string, { host: number; next: number; open: number | null }>();
        const settled = new Map<string, number>();
        for (const o of ops) {
          const h = hosts[o.host]!;
          const turnId = `turn-${o.turn}`;
          const t = rounds.get(turnId) ?? { host: o.host, next: 0, open: null };
          rounds.set(turnId, t);
          const th = hosts[t.host]!;
          if (o.kind === "round" && t.open === null) {
            const r = await th.admission.admit({ kind: t.next === 0 ? "turnStart" : "round", tenantId, userId: "ann", keyId: "k", planId: plan.id, turnId, round: t.next, model: MODEL, inputTokens: 200, maxOutputTokens: 100 });
            if (r.admitted) t.open = t.next;
          } else if (o.kind === "settle" && t.open !== null) {
            const usage = { inputTokens: 200, cachedInputTokens: 0, outputTokens: Math.min(100, o.out) };
            const s = await th.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId, round: t.open, model: MODEL, usage });
            assert.equal(s.duplicate, false);
            settled.set(reservationKey(turnId, t.open), s.cost);
            t.next = t.open + 1;
            t.open = null;
          } else if (o.kind === "replay" && t.next > 0) {
            const s = await h.admission.settle({ tenantId, userId: "ann", planId: plan.id, turnId, round: t.next - 1, model: MODEL, usage: { inputTokens: 200, cachedInputTokens: 0, outputTokens: o.out } });
            assert.equal(s.duplicate, true);
          } else if (o.kind === "release" && t.open !== null) {
            await th.admission.release(tenantId, turnId, t.open);
            t.open = null;
          }
          await Promise.all(hosts.map((x) => x.sliced.idle()));
          const [report] = await h.sliced.reconcile(tenantId);
          assert.deepEqual(report?.problems, []);
          assert.ok(report!.totals.balance >= -(report!.totals.reservedInFlight + report!.totals.slicedInFlight));
        }
        for (const [turnId, t] of rounds) {
          if (t.open !== null) await hosts[t.host]!.admission.release(tenantId, turnId, t.open);
          await hosts[t.host]!.admission.endTurn(tenantId, turnId);
        }
        for (const h of hosts) await h.sliced.returnAll();
        const report = await reconciled(hosts[0]!.sliced, tenantId);
        assert.equal(report.totals.reservedInFlight, 0);
        assert.equal(report.totals.slicedInFlight, 0);
        assert.deepEqual(await hosts[0]!.sliced.heldReservations(tenantId), []);
        assert.equal(report.totals.usageEvents, settled.size);
        // Every settled round charged exactly once: the billed total is the sum of the settlements' costs.
        assert.equal(report.totals.billed, [...settled.values()].reduce((s, c) => s + c, 0));
      }),
      { numRuns: 12 },
    );
  });
});
