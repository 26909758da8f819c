import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { rateLimitWindow, windowEnd, windowStart, type PlanWindow } from "../src/index.ts";

const windowArb = fc.record({ windowMins: fc.integer({ min: 1, max: 20_000 }), budget: fc.integer({ min: 0, max: 10_000_000_000 }) });
const nowArb = fc.integer({ min: 0, max: 4_102_444_800_000 });

test("the window holding a time starts at or before it and ends after it, one duration later", () => {
  fc.assert(
    fc.property(windowArb, nowArb, (w, now) => {
      const start = windowStart(now, w.windowMins);
      assert.ok(start <= now && now < windowEnd(now, w.windowMins));
      assert.equal(windowEnd(now, w.windowMins) - start, w.windowMins * 60_000);
      assert.equal(start % (w.windowMins * 60_000), 0);
    }),
  );
});

test("usedPercent is settled usage over the budget, rounded down and capped at 100; resetsAt is the window's end in seconds", () => {
  fc.assert(
    fc.property(windowArb, nowArb, fc.integer({ min: 0, max: 20_000_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (w: PlanWindow, now, used, reserved) => {
      const start = windowStart(now, w.windowMins);
      const r = rateLimitWindow(w, { startMs: start, used, reserved }, now);
      const expected = w.budget === 0 ? 100 : Math.min(100, Math.floor((used * 100) / w.budget));
      assert.equal(r.usedPercent, expected);
      assert.ok(Number.isInteger(r.usedPercent) && r.usedPercent >= 0 && r.usedPercent <= 100);
      assert.equal(r.windowDurationMins, w.windowMins);
      assert.equal(r.resetsAt, Math.floor((start + w.windowMins * 60_000) / 1000));
      assert.ok(r.resetsAt! * 1000 > now);
    }),
  );
});

test("crossing a window boundary forgets the usage of the window before and moves resetsAt one window on", () => {
  fc.assert(
    fc.property(windowArb.filter((w) => w.budget > 0), nowArb, fc.integer({ min: 1, max: 10_000_000_000 }), fc.integer({ min: 0, max: 3 }), (w, now, used, later) => {
      const len = w.windowMins * 60_000;
      const usage = { startMs: windowStart(now, w.windowMins), used, reserved: 0 };
      const before = rateLimitWindow(w, usage, now);
      // The last millisecond of the window still counts the usage; the first of a later window does not.
      const lastMs = windowEnd(now, w.windowMins) - 1;
      assert.deepEqual(rateLimitWindow(w, usage, lastMs), before);
      const next = windowEnd(now, w.windowMins) + later * len;
      const after = rateLimitWindow(w, usage, next);
      assert.equal(after.usedPercent, 0);
      assert.equal(after.resetsAt, before.resetsAt! + ((later + 1) * len) / 1000);
    }),
  );
});
