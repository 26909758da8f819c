import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { allocate, covered, grantsAvailable, balanceAvailable, planAllowance, type FundingState, type Plan } from "../src/index.ts";

const NOW = 1_800_000_000_000;

const planArb: fc.Arbitrary<Plan> = fc.record({
  id: fc.constant("p"),
  name: fc.constant("P"),
  planType: fc.constant("pro"),
  priorityClass: fc.constant(1),
  unlimited: fc.constant(false),
  primary: fc.option(fc.record({ windowMins: fc.constant(300), budget: fc.integer({ min: 0, max: 10_000 }) }), { nil: null }),
  secondary: fc.option(fc.record({ windowMins: fc.constant(10_080), budget: fc.integer({ min: 0, max: 50_000 }) }), { nil: null }),
  maxTurnsPerTenant: fc.constant(10),
  maxTurnsPerUser: fc.constant(10),
  burstPerKey: fc.constant(10),
  burstPerTenant: fc.constant(10),
});

const stateArb: fc.Arbitrary<FundingState> = fc.record({
  plan: planArb,
  windows: fc.record({
    primary: fc.option(fc.record({ startMs: fc.constant(0), used: fc.integer({ min: 0, max: 12_000 }), reserved: fc.integer({ min: 0, max: 2_000 }) }), { nil: null }),
    secondary: fc.option(fc.record({ startMs: fc.constant(0), used: fc.integer({ min: 0, max: 60_000 }), reserved: fc.integer({ min: 0, max: 2_000 }) }), { nil: null }),
  }),
  grants: fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 4 }),
      remaining: fc.integer({ min: 0, max: 5_000 }),
      reserved: fc.integer({ min: 0, max: 1_000 }),
      expiresAtMs: fc.integer({ min: NOW - 10_000, max: NOW + 10_000 }),
    }),
    { selector: (g) => g.id, maxLength: 6 },
  ).map((gs) => gs.map((g) => ({ ...g, reserved: Math.min(g.reserved, g.remaining) }))),
  balance: fc.record({ balance: fc.integer({ min: 0, max: 20_000 }), reserved: fc.integer({ min: 0, max: 5_000 }) }),
});

test("an allocation covers the amount from its sources, each within what it has, or reports the shortfall", () => {
  fc.assert(
    fc.property(stateArb, fc.integer({ min: 0, max: 40_000 }), (state, amount) => {
      const a = allocate(amount, state, NOW);
      assert.equal(covered(a) + a.shortfall, amount);
      assert.ok(a.window <= planAllowance(state.plan, state.windows));
      assert.ok(a.balance <= balanceAvailable(state.balance));
      for (const part of a.grants) {
        const g = state.grants.find((x) => x.id === part.grantId)!;
        assert.ok(part.amount > 0 && part.amount <= g.remaining - g.reserved);
      }
      // A shortfall only when every source is spent out.
      if (a.shortfall > 0) {
        assert.equal(a.window, planAllowance(state.plan, state.windows));
        assert.equal(a.grants.reduce((s, g) => s + g.amount, 0), grantsAvailable(state.grants, NOW));
        assert.equal(a.balance, balanceAvailable(state.balance));
      }
    }),
  );
});

test("grants pay before purchased credits, oldest expiry first, and never once expired", () => {
  fc.assert(
    fc.property(stateArb, fc.integer({ min: 0, max: 40_000 }), (state, amount) => {
      const a = allocate(amount, state, NOW);
      const fromGrants = a.grants.reduce((s, g) => s + g.amount, 0);
      // Credits are touched only when the grants have nothing left.
      if (a.balance > 0) assert.equal(fromGrants, grantsAvailable(state.grants, NOW));
      for (const part of a.grants) assert.ok(state.grants.find((g) => g.id === part.grantId)!.expiresAtMs > NOW, "an expired grant was spent");
      // Oldest expiry first: every grant spent expires no later than any live grant left with money.
      const spent = new Set(a.grants.map((g) => g.grantId));
      const partial = a.grants.filter((p) => {
        const g = state.grants.find((x) => x.id === p.grantId)!;
        return p.amount < g.remaining - g.reserved;
      });
      for (const g of state.grants) {
        if (spent.has(g.id) || g.expiresAtMs <= NOW || g.remaining - g.reserved <= 0) continue;
        for (const p of a.grants) {
          const s = state.grants.find((x) => x.id === p.grantId)!;
          assert.ok(s.expiresAtMs <= g.expiresAtMs, `grant expiring at ${s.expiresAtMs} spent before one expiring at ${g.expiresAtMs}`);
        }
      }
      assert.ok(partial.length <= 1, "more than one grant partly spent");
    }),
  );
});

test("the plan windows pay first, as far as the tighter window allows", () => {
  fc.assert(
    fc.property(stateArb, fc.integer({ min: 0, max: 40_000 }), (state, amount) => {
      const a = allocate(amount, state, NOW);
      assert.equal(a.window, Math.min(amount, planAllowance(state.plan, state.windows)));
      if (state.plan.primary === null && state.plan.secondary === null) assert.equal(a.window, 0);
    }),
  );
});
