import assert from "node:assert/strict";
import { test } from "node:test";
import { codexSchema } from "../../../test/support/codex-schema.ts";
import { testPlan } from "../../../test/support/plans.ts";
import { decide, refusalNotifications, refusalToRpcError, type FundingState, type Refusal } from "../src/index.ts";

const NOW = Date.UTC(2026, 11, 3, 7, 0, 0);
const plan = testPlan("pro", {
  primary: { windowMins: 300, budget: 1_000 },
  secondary: { windowMins: 10_080, budget: 5_000 },
  maxTurnsPerTenant: 2,
  maxTurnsPerUser: 1,
  burstPerKey: 5,
  burstPerTenant: 10,
});
const funding = (over: Partial<FundingState> = {}): FundingState => ({
  plan,
  windows: { primary: null, secondary: null },
  grants: [],
  balance: { balance: 0, reserved: 0 },
  ...over,
});

function refusal(r: ReturnType<typeof decide>): Refusal {
  assert.equal(r.kind, "refuse");
  return (r as { refusal: Refusal }).refusal;
}

test("a user at their concurrency limit gets rateLimitExceeded with rate_limit_reached", () => {
  const r = refusal(decide({ amount: 10, newTurn: true, member: false, concurrency: { tenantActive: 1, userActive: 1 }, funding: funding(), nowMs: NOW }));
  assert.equal(r.reason, "userConcurrency");
  const err = refusalToRpcError(r).toShape();
  assert.equal(err.code, -32001);
  assert.match(err.message, /1 turn at once/);
  assert.deepEqual(err.data, { reason: "userConcurrency", retryAfterMs: 1_000, rateLimits: r.rateLimits, codexErrorInfo: "rateLimitExceeded" });
  assert.equal(r.rateLimits.rateLimitReachedType, "rate_limit_reached");
});

test("an exhausted primary window with nothing else to pay says what ran out and when it resets", () => {
  const start = Math.floor(NOW / (300 * 60_000)) * 300 * 60_000;
  const r = refusal(
    decide({ amount: 10, newTurn: false, member: true, concurrency: { tenantActive: 0, userActive: 0 }, funding: funding({ windows: { primary: { startMs: start, used: 1_000, reserved: 0 }, secondary: null } }), nowMs: NOW }),
  );
  assert.equal(r.reason, "primaryWindow");
  assert.equal(r.retryAfterMs, start + 300 * 60_000 - NOW);
  assert.match(r.message, /primary 5-hour usage window is used up/);
  assert.match(r.message, new RegExp(new Date(start + 300 * 60_000).toISOString()));
  assert.equal(r.rateLimits.primary?.usedPercent, 100);
  assert.equal(r.rateLimits.rateLimitReachedType, "workspace_member_usage_limit_reached");
  const err = refusalToRpcError(r).toShape();
  assert.equal((err.data as { codexErrorInfo: string }).codexErrorInfo, "usageLimitExceeded");
});

test("a plan without windows refuses with creditsDepleted once credits run out, and waiting does not help", () => {
  const r = refusal(
    decide({ amount: 10, newTurn: true, member: false, concurrency: { tenantActive: 0, userActive: 0 }, funding: funding({ plan: { ...plan, primary: null, secondary: null }, balance: { balance: 5, reserved: 0 } }), nowMs: NOW }),
  );
  assert.equal(r.reason, "creditsDepleted");
  assert.equal(r.retryAfterMs, null);
  assert.equal(r.rateLimits.rateLimitReachedType, "workspace_owner_credits_depleted");
  assert.equal(r.rateLimits.credits?.balance, "0.000005");
});

test("a refused later round sends account/rateLimits/updated then error, both as the Codex schema defines them", () => {
  const schema = codexSchema();
  const r = refusal(decide({ amount: 10, newTurn: true, member: false, concurrency: { tenantActive: 2, userActive: 0 }, funding: funding(), nowMs: NOW }));
  const [updated, error] = refusalNotifications(r, "thr-1", "turn-1");
  assert.equal(updated.method, "account/rateLimits/updated");
  assert.equal(updated.params.rateLimits.rateLimitReachedType, "rate_limit_reached");
  assert.equal(error.method, "error");
  assert.deepEqual(error.params, { threadId: "thr-1", turnId: "turn-1", error: { message: r.message, codexErrorInfo: "rateLimitExceeded", additionalDetails: null, misalignment: null }, willRetry: false });
  for (const n of [updated, error]) assert.equal(schema.check({ method: n.method, params: n.params as never, emittedAtMs: NOW }), null);
  for (const reason of ["primaryWindow", "creditsDepleted"] as const) {
    const usage = refusalNotifications({ ...r, reason, rateLimits: { ...r.rateLimits, rateLimitReachedType: "workspace_owner_usage_limit_reached" } }, "thr-1", "turn-1");
    assert.equal(usage[1].params.error.codexErrorInfo, "usageLimitExceeded");
    for (const n of usage) assert.equal(schema.check({ method: n.method, params: n.params as never, emittedAtMs: NOW }), null);
  }
});

test("a round costing more than a barely used window says so instead of calling the budget used up", () => {
  const start = Math.floor(NOW / (300 * 60_000)) * 300 * 60_000;
  const r = refusal(
    decide({ amount: 2_500, newTurn: true, member: false, concurrency: { tenantActive: 0, userActive: 0 }, funding: funding({ windows: { primary: { startMs: start, used: 0, reserved: 0 }, secondary: null } }), nowMs: NOW }),
  );
  assert.equal(r.reason, "primaryWindow");
  assert.equal(r.rateLimits.primary?.usedPercent, 0);
  assert.doesNotMatch(r.message, /used up/);
  assert.match(r.message, /may cost up to 0\.0025 credits and only 0\.001 are left/);
  assert.match(r.message, /Even a fresh window would not cover it/);
});

test("a round that a fresh window would cover names the reset; one costing more than the credits left names both amounts", () => {
  const start = Math.floor(NOW / (300 * 60_000)) * 300 * 60_000;
  const window = refusal(
    decide({ amount: 800, newTurn: false, member: false, concurrency: { tenantActive: 0, userActive: 0 }, funding: funding({ windows: { primary: { startMs: start, used: 600, reserved: 0 }, secondary: null } }), nowMs: NOW }),
  );
  assert.match(window.message, /may cost up to 0\.0008 credits and only 0\.0004 are left/);
  assert.match(window.message, new RegExp(`resets at ${new Date(start + 300 * 60_000).toISOString()}`));
  const credits = refusal(
    decide({ amount: 10, newTurn: false, member: false, concurrency: { tenantActive: 0, userActive: 0 }, funding: funding({ plan: { ...plan, primary: null, secondary: null }, balance: { balance: 5, reserved: 0 } }), nowMs: NOW }),
  );
  assert.equal(credits.reason, "creditsDepleted");
  assert.doesNotMatch(credits.message, /used up/);
  assert.match(credits.message, /may cost up to 0\.00001 credits and the tenant has 0\.000005 left/);
});
