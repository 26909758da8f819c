import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ClassAdmission, PRIORITY_CLASSES } from "../../src/shedding/class-admission.ts";
import { pressureOf, projectedTurnPressure, signalPressureOf } from "../../src/shedding/pressure.ts";

const BOTTOM = 1;
const MIDDLE = 4;
const TOP = 9;
const ACTIVE = [BOTTOM, MIDDLE, TOP];

/** Sends `n` requests of every active class; returns how many of each were admitted. */
function offer(a: ClassAdmission, n: number): Map<number, number> {
  const admitted = new Map<number, number>();
  for (const c of ACTIVE) {
    let k = 0;
    for (let i = 0; i < n; i++) if (a.admit(c)) k++;
    admitted.set(c, k);
  }
  return admitted;
}

/** A higher class refused while a lower one admitted: the invariant the controller must never break. */
function assertOrdered(a: ClassAdmission, label: string): void {
  for (let lo = 0; lo < PRIORITY_CLASSES; lo++) {
    for (let hi = lo + 1; hi < PRIORITY_CLASSES; hi++) {
      if (a.admittedFraction(hi) < 1) assert.equal(a.admittedFraction(lo), 0, `${label}: class ${hi} held back at ${a.admittedFraction(hi)} while class ${lo} admits ${a.admittedFraction(lo)}`);
    }
  }
}

describe("priority-class admission (AIMD)", () => {
  test("under a synthetic overload the lowest class is shed first, never a higher one while a lower one is admitted; relief restores them top down", () => {
    const a = new ClassAdmission({ targetPressure: 0.85, settleSteps: 5 });
    // Rises to 3× capacity, stays, then falls back below the target.
    const pressures = [0.2, 0.5, 0.9, 1.5, 2.2, ...Array<number>(15).fill(3), ...Array<number>(40).fill(0.6)];
    const firstShed = new Map<number, number>();
    const firstFull = new Map<number, number>();
    for (const [i, p] of pressures.entries()) {
      const admitted = offer(a, 100);
      for (const c of ACTIVE) {
        if (admitted.get(c)! < 100 && !firstShed.has(c)) firstShed.set(c, i);
        if (firstShed.has(c) && admitted.get(c)! === 100 && !firstFull.has(c)) firstFull.set(c, i);
      }
      for (const lo of ACTIVE) for (const hi of ACTIVE) if (hi > lo && admitted.get(hi)! < 100) assert.equal(admitted.get(lo), 0, `step ${i}: class ${hi} refused while ${lo} admitted`);
      a.step(p);
      assertOrdered(a, `after step ${i} (pressure ${p})`);
    }
    assert.ok(firstShed.has(BOTTOM), "the bottom class was shed");
    assert.ok(firstShed.has(MIDDLE), "sustained pressure reached the middle class");
    assert.ok(firstShed.get(BOTTOM)! < firstShed.get(MIDDLE)!, "bottom before middle");
    assert.ok(!firstShed.has(TOP) || firstShed.get(MIDDLE)! < firstShed.get(TOP)!, "middle before top");
    for (const c of ACTIVE) assert.equal(a.admittedFraction(c), 1, `class ${c} fully admitted again once pressure fell`);
    assert.ok(firstFull.get(MIDDLE)! <= firstFull.get(BOTTOM)!, "recovery goes top down");
  });

  test("after a class is shed entirely the next one up waits for the cut to show: settle steps, then level pressure", () => {
    const a = new ClassAdmission({ targetPressure: 1, decrease: 0.1, settleSteps: 3 });
    const stepWith = (p: number) => {
      offer(a, 10);
      a.step(p);
    };
    stepWith(2);
    stepWith(2);
    assert.equal(a.admittedFraction(BOTTOM), 0, "bottom shed");
    for (const p of [2, 2, 2]) {
      stepWith(p);
      assert.equal(a.admittedFraction(MIDDLE), 1, "within the settle steps");
    }
    for (const p of [2.5, 3, 2.6, 2.2]) {
      stepWith(p);
      assert.equal(a.admittedFraction(MIDDLE), 1, `pressure still moving (${p})`);
    }
    stepWith(2.2);
    assert.ok(a.admittedFraction(MIDDLE) < 1, "level over the target: the middle class is cut");
    assert.equal(a.admittedFraction(TOP), 1);
    assertOrdered(a, "after the middle cut");
  });

  test("a partly admitted class admits that share of its requests, spread evenly", () => {
    const a = new ClassAdmission({ decrease: 0.5 });
    for (let i = 0; i < 5; i++) a.admit(BOTTOM);
    a.step(2);
    assert.equal(a.admittedFraction(BOTTOM), 0.5);
    let admitted = 0;
    for (let i = 0; i < 1_000; i++) if (a.admit(BOTTOM)) admitted++;
    assert.equal(admitted, 500);
    assert.equal(a.admittedFraction(TOP), 1);
  });

  test("classes that asked nothing are passed over: the first class with requests is cut, the ones below it refused", () => {
    const a = new ClassAdmission({ decrease: 0.5 });
    a.admit(MIDDLE);
    a.step(3);
    assert.equal(a.admittedFraction(MIDDLE), 0.5);
    for (let c = 0; c < MIDDLE; c++) assert.equal(a.admittedFraction(c), 0, `idle class ${c} below the cut`);
    assertOrdered(a, "after one cut");
  });

  test("retryAfterMs grows with pressure and is the base below the target", () => {
    const a = new ClassAdmission({ targetPressure: 0.8, baseRetryAfterMs: 1_000, maxRetryAfterMs: 30_000 });
    const seen: number[] = [];
    for (const p of [0.1, 0.8, 1, 1.5, 2, 3, 100]) {
      a.step(p);
      seen.push(a.retryAfterMs);
    }
    assert.equal(seen[0], 1_000);
    assert.equal(seen[1], 1_000);
    for (let i = 2; i < seen.length - 1; i++) assert.ok(seen[i]! > seen[i - 1]!, `retryAfterMs ${seen.join(", ")} grows with pressure`);
    assert.equal(seen.at(-1), 30_000, "capped");
  });

  test("pressure is the larger of active turns against capacity and event-loop lag against its budget; draining hosts are left out", () => {
    const h = (activeTurns: number, capacity: number, eventLoopLagMs = 0, draining = false) => ({ hostId: "h", loadedThreads: 0, activeTurns, capacity, eventLoopLagMs, draining, at: 0 });
    assert.equal(pressureOf([]), 0);
    assert.equal(pressureOf([h(5, 10), h(15, 10)]), 1);
    assert.equal(pressureOf([h(1, 10, 500), h(1, 10, 0)], { lagBudgetMs: 250 }), 1);
    assert.equal(pressureOf([h(30, 10, 0, true), h(2, 10)]), 0.2);
  });

  test("the model's time to first token weighs against its budget (the mean of the hosts that measured it)", () => {
    const h = (modelTtftMs?: number, draining = false) => ({ hostId: "h", loadedThreads: 0, activeTurns: 1, capacity: 10, eventLoopLagMs: 0, draining, at: 0, ...(modelTtftMs === undefined ? {} : { modelTtftMs }) });
    assert.equal(pressureOf([h(), h()]), 0.1);
    assert.equal(pressureOf([h(6_000), h(2_000), h()], { ttftBudgetMs: 4_000 }), 1);
    assert.equal(pressureOf([h(1_000), h(50_000, true)], { ttftBudgetMs: 2_000 }), 0.5);
    assert.equal(signalPressureOf([h(3_000)], { ttftBudgetMs: 10_000, lagBudgetMs: 250 }), 0.3);
  });

  test("projected turn pressure: the rate of new turns times how long turns last, against capacity", () => {
    const h = (meanTurnMs?: number, draining = false) => ({ hostId: "h", loadedThreads: 0, activeTurns: 50, capacity: 100, eventLoopLagMs: 0, draining, at: 0, ...(meanTurnMs === undefined ? {} : { meanTurnMs }) });
    assert.equal(projectedTurnPressure([h(), h()], 1), null, "no turn length reported");
    // 2 turns a second lasting 60 s on 200 turns of capacity: 120 running once settled.
    assert.equal(projectedTurnPressure([h(60_000), h(60_000)], 2 / 1_000), 0.6);
    assert.equal(projectedTurnPressure([h(60_000), h(1, true)], 1 / 1_000), 0.6);
  });

  test("with a backlog over the target, a class is not restored while the projection is under it", () => {
    const a = new ClassAdmission({ targetPressure: 0.8 });
    a.admit(0);
    a.step(2);
    assert.equal(a.admittedFraction(0), 0.5);
    a.admit(0);
    a.step(0.5, 1.5);
    assert.equal(a.admittedFraction(0), 0.5, "held while the turns admitted before the cut run");
    a.admit(0);
    a.step(0.5, 0.7);
    assert.equal(a.admittedFraction(0), 0.6);
  });
});
