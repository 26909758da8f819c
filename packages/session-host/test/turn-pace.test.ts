import { test } from "node:test";
import assert from "node:assert/strict";
import { TurnPace } from "../src/capacity/turn-pace.ts";

test("a host's turn pace: turns started, their length (the first one's age until one ends) and the time to first token", () => {
  let now = 1_000_000;
  const pace = new TurnPace(() => now);
  assert.deepEqual(pace.load(), { turnsStarted: 0 });
  pace.started();
  pace.started();
  now += 7_000;
  assert.deepEqual(pace.load(), { turnsStarted: 2, meanTurnMs: 7_000 });
  pace.ended(10_000);
  pace.ended(20_000);
  pace.firstToken(500);
  pace.firstToken(1_500);
  // Moving averages: 10 s then 20 % of the way to 20 s; 0.5 s then 20 % of the way to 1.5 s.
  assert.deepEqual(pace.load(), { turnsStarted: 2, meanTurnMs: 12_000, modelTtftMs: 700 });
});
