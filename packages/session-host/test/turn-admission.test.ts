import { test } from "node:test";
import assert from "node:assert/strict";
import { openCreditStore } from "@threadmesh/persistence";
import { Admission, BurstLimiter, PriceTable, type CreditStore } from "@threadmesh/ratelimit";
import { noopTelemetry } from "@threadmesh/telemetry";
import { TurnAdmission } from "../src/admission/turn-admission.ts";

const PRICE = { inputPerMillion: 1_000_000, cachedInputPerMillion: 100_000, outputPerMillion: 4_000_000 };

/** A credit store (SQLite in memory) that reports the slot renewals it receives. */
async function recordingStore(): Promise<{ store: CreditStore; renewed: (turnId: string) => number; close: () => Promise<void>; onRenew: (cb: () => void) => void }> {
  const inner = await openCreditStore({ url: "sqlite::memory:" });
  const counts = new Map<string, number>();
  const listeners: Array<() => void> = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "renewSlot") {
        return async (tenantId: string, userId: string, turnId: string, nowMs: number, ttlMs: number) => {
          await target.renewSlot(tenantId, userId, turnId, nowMs, ttlMs);
          counts.set(turnId, (counts.get(turnId) ?? 0) + 1);
          for (const l of listeners) l();
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as CreditStore;
  return { store, renewed: (t) => counts.get(t) ?? 0, close: () => inner.close(), onRenew: (cb) => listeners.push(cb) };
}

test("a host renews the slots of the turns it runs, and stops renewing a turn it handed over", async () => {
  const r = await recordingStore();
  const admission = new Admission({ store: r.store, prices: new PriceTable({ "*": PRICE }), burst: new BurstLimiter() });
  const turns = new TurnAdmission({ admission, store: r.store, planOf: async () => "default", maxOutputTokens: 100, logger: noopTelemetry().logger, renewIntervalMs: 20 });
  try {
    const payer = await turns.payer("acme", { keyId: "k1" });
    assert.equal((await turns.admitTurn(payer, "kept", "m", 10)).refusal, null);
    assert.equal((await turns.admitTurn(payer, "handed-over", "m", 10)).refusal, null);
    assert.equal(await r.store.activeTurns("acme", Date.now()), 2);
    // Handed over: the adopting host ends it, and this host must not bring its slot back.
    turns.forget("handed-over");
    await r.store.endTurn("acme", "handed-over");
    // The renewal timer does not hold the process open; this handle does while the test waits for it.
    const keepAlive = setInterval(() => undefined, 1_000);
    try {
      await new Promise<void>((resolve) => r.onRenew(() => r.renewed("kept") >= 3 && resolve()));
    } finally {
      clearInterval(keepAlive);
    }
    assert.equal(r.renewed("handed-over"), 0);
    assert.deepEqual((await r.store.slots("acme", Date.now())).map((s) => s.turnId), ["kept"]);
    await turns.endTurn("acme", "kept");
    assert.equal(await r.store.activeTurns("acme", Date.now()), 0);
  } finally {
    turns.close();
    await r.close();
  }
});

test("a host continuing a turn resumes at the round its predecessor left reserved, else after the last settled one", async () => {
  const r = await recordingStore();
  const admission = new Admission({ store: r.store, prices: new PriceTable({ "*": PRICE }), burst: new BurstLimiter() });
  const first = new TurnAdmission({ admission, store: r.store, planOf: async () => "default", maxOutputTokens: 100, logger: noopTelemetry().logger });
  const second = new TurnAdmission({ admission, store: r.store, planOf: async () => "default", maxOutputTokens: 100, logger: noopTelemetry().logger });
  try {
    const payer = await first.payer("acme", { keyId: "k1", user: "ann" });
    assert.equal((await first.admitTurn(payer, "t1", "m", 10)).refusal, null);
    assert.deepEqual(await second.adopt("acme", "t1"), { payer: { ...payer, keyId: "ann" }, nextRound: 0 });
    await first.settle(payer, "t1", 0, "m", { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5 });
    assert.equal((await second.adopt("acme", "t1")).nextRound, 1);
    assert.deepEqual(await first.admitRound(payer, "t1", 1, "m", 20), { admitted: true });
    assert.equal((await second.adopt("acme", "t1")).nextRound, 1, "round 1 is reserved and unsettled: it is sent again under its key");
    await second.settle(payer, "t1", 1, "m", { inputTokens: 20, cachedInputTokens: 0, outputTokens: 5 });
    // The dead host's late settlement of the same round changes nothing.
    await first.settle(payer, "t1", 1, "m", { inputTokens: 20, cachedInputTokens: 0, outputTokens: 5 });
    const [report] = await r.store.reconcile("acme");
    assert.ok(report!.ok, report!.problems.join("; "));
    assert.equal(report!.totals.usageEvents, 2);
    await second.abandon("acme", "t1");
    assert.equal(await r.store.activeTurns("acme", Date.now()), 0);
  } finally {
    first.close();
    second.close();
    await r.close();
  }
});
