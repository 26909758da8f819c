import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHostRegistry, type HostLoad } from "@threadmesh/mesh";
import { TurnShedder } from "../../src/shedding/turn-shedder.ts";

test("a model slow to answer sheds the bottom class before turns reach capacity, and the top class stays admitted", async () => {
  let clock = Date.now();
  const hosts = new MemoryHostRegistry({ leaseTtlMs: 3_600_000 });
  const shedder = new TurnShedder({ hosts, now: () => clock, ttftBudgetMs: 4_000 });
  let started = 0;
  const beat = (modelTtftMs: number) =>
    hosts.heartbeat({ hostId: "h1", loadedThreads: 50, activeTurns: 45, capacity: 100, eventLoopLagMs: 0, draining: false, at: clock, turnsStarted: started, meanTurnMs: 5_000, modelTtftMs } satisfies HostLoad);
  const second = async (modelTtftMs: number) => {
    clock += 1_000;
    await beat(modelTtftMs);
    shedder.refresh();
    for (let i = 0; i < 4; i++) {
      if (shedder.refusal(0) === null) started++;
      assert.equal(shedder.refusal(9), null, "the top class is admitted");
      started++;
    }
  };
  // 45 of 100 turns running and 8 new a second lasting 5 s: 0.45 of capacity, nothing shed.
  for (let s = 0; s < 5; s++) await second(800);
  assert.equal(shedder.admittedFraction(0), 1);
  // The provider slows down: time to first token at 5 s against a budget of 4 s.
  for (let s = 0; s < 8; s++) await second(5_000);
  assert.ok(shedder.pressure >= 1.25, `pressure ${shedder.pressure}`);
  assert.equal(shedder.admittedFraction(0), 0, "the bottom class is shed");
  assert.equal(shedder.admittedFraction(9), 1);
  // It recovers: the bottom class comes back.
  for (let s = 0; s < 15; s++) await second(600);
  assert.equal(shedder.admittedFraction(0), 1);
});

test("on hosts far from capacity, neither a slow model, a burst of new turns nor a late event loop sheds anything; at 45 % lag does", async () => {
  let clock = Date.now();
  const hosts = new MemoryHostRegistry({ leaseTtlMs: 3_600_000 });
  const shedder = new TurnShedder({ hosts, now: () => clock, ttftBudgetMs: 4_000 });
  let started = 0;
  let active = 5;
  const beat = (modelTtftMs: number, eventLoopLagMs: number) =>
    hosts.heartbeat({ hostId: "h1", loadedThreads: 50, activeTurns: active, capacity: 100, eventLoopLagMs, draining: false, at: clock, turnsStarted: started, meanTurnMs: 60_000, modelTtftMs } satisfies HostLoad);
  const second = async (modelTtftMs: number, lagMs = 0) => {
    clock += 1_000;
    await beat(modelTtftMs, lagMs);
    shedder.refresh();
    // 20 new turns a second lasting a minute would project to 12x capacity.
    for (let i = 0; i < 20; i++) if (shedder.refusal(0) === null) started++;
  };
  for (let s = 0; s < 8; s++) await second(8_000);
  assert.equal(shedder.admittedFraction(0), 1, "5 of 100 turns running: nothing is shed");
  for (let s = 0; s < 8; s++) await second(100, 500);
  assert.equal(shedder.admittedFraction(0), 1, "5 of 100 turns running: a late event loop sheds nothing (the host refuses turns itself)");
  active = 45;
  for (let s = 0; s < 8; s++) await second(100, 500);
  assert.equal(shedder.admittedFraction(0), 0, "45 of 100 turns running and an event loop 500 ms late: the bottom class is shed");
});
