import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { StreamClock } from "../src/stream-clock.ts";

describe("StreamClock", () => {
  test("runs callbacks in due order, those due together from one wake", async () => {
    const clock = new StreamClock(1);
    const t0 = performance.now();
    const ran: Array<[string, number]> = [];
    /** Set by a until the end of its task: b sees it when it runs in the same wake. */
    let inWakeOfA = false;
    let bSharedAWake = false;
    const done = new Promise<void>((resolve) => {
      const at = (name: string) => () => {
        if (name === "a") {
          inWakeOfA = true;
          queueMicrotask(() => (inWakeOfA = false));
        }
        if (name === "b") bSharedAWake = inWakeOfA;
        ran.push([name, performance.now()]);
        if (ran.length === 5) resolve();
      };
      for (const [name, ms] of [["c", 30], ["a", 10], ["e", 50], ["b", 10.2], ["d", 40]] as const) clock.schedule(t0 + ms, at(name));
    });
    await done;
    assert.deepEqual(ran.map(([n]) => n), ["a", "b", "c", "d", "e"]);
    // Nothing runs before it is due (less the slack), and a and b share a wake.
    const due: Record<string, number> = { a: 10, b: 10.2, c: 30, d: 40, e: 50 };
    for (const [n, at] of ran) assert.ok(at - t0 >= due[n]! - 1, `${n} ran at ${at - t0} ms`);
    assert.ok(bSharedAWake);
    assert.equal(clock.size, 0);
  });

  test("a cancelled callback never runs; the others keep their order", async () => {
    const clock = new StreamClock(1);
    const t0 = performance.now();
    const ran: number[] = [];
    const entries = Array.from({ length: 20 }, (_, i) => clock.schedule(t0 + 5 + ((i * 7) % 20), () => ran.push(i)));
    for (const i of [0, 3, 4, 11, 19]) clock.cancel(entries[i]!);
    clock.cancel(entries[3]!);
    const last = new Promise<void>((resolve) => clock.schedule(t0 + 40, resolve));
    await last;
    const expected = [...Array(20).keys()].filter((i) => ![0, 3, 4, 11, 19].includes(i)).sort((x, y) => ((x * 7) % 20) - ((y * 7) % 20));
    assert.deepEqual(ran, expected);
  });

  test("callbacks scheduled from a wake, for later, get a wake of their own", async () => {
    const clock = new StreamClock(1);
    const times: number[] = [];
    await new Promise<void>((resolve) => {
      const tick = () => {
        times.push(performance.now());
        if (times.length === 4) resolve();
        else clock.schedule(performance.now() + 5, tick);
      };
      clock.schedule(performance.now() + 5, tick);
    });
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 4, `gap ${times[i]! - times[i - 1]!} ms`);
    assert.equal(clock.size, 0);
  });
});
