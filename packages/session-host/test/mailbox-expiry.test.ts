import { test } from "node:test";
import assert from "node:assert/strict";
import { Mailbox } from "../src/mailbox.ts";

test("an item that waited longer than maxWaitMs goes to `expired` instead of the handler", async () => {
  let clock = 0;
  const handled: string[] = [];
  const expired: Array<[string, number]> = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const box = new Mailbox<string>(
    10,
    async (item) => {
      if (item === "slow") await gate;
      handled.push(item);
    },
    () => {},
    {
      maxWaitMs: 100,
      now: () => clock,
      expired: (item, waited) => {
        expired.push([item, waited]);
        return item !== "keep";
      },
    },
  );
  box.offer("slow");
  clock = 50;
  box.offer("late");
  box.offer("keep");
  clock = 120;
  box.offer("fresh");
  assert.equal(box.busy, true);
  // "late" and "keep" waited 70 ms by now, "fresh" 0: nothing has expired yet.
  clock = 151;
  release();
  await box.whenIdle();
  assert.deepEqual(expired, [["late", 101], ["keep", 101]]);
  assert.deepEqual(handled, ["slow", "keep", "fresh"], "an item `expired` declines is handled; a fresh one is handled");
  assert.equal(box.busy, false);
});

test("without expiry every item is handled however long it waited", async () => {
  const handled: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const box = new Mailbox<number>(10, async (n) => {
    if (n === 0) await gate;
    handled.push(n);
  }, () => {});
  for (let i = 0; i < 5; i++) box.offer(i);
  release();
  await box.whenIdle();
  assert.deepEqual(handled, [0, 1, 2, 3, 4]);
});
