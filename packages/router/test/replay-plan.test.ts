import { test } from "node:test";
import assert from "node:assert/strict";
import type { EventLog, LoggedEvent } from "@threadmesh/mesh";
import { planReplay } from "../src/replay.ts";

const event = (seq: number, epoch = 1): LoggedEvent => ({
  subject: "tm.v1.t.ev.th.t",
  data: new TextEncoder().encode(`{"method":"m","params":{},"seq":${seq}}`),
  headers: { "tm-k": "n", "tm-s": String(seq), "tm-e": String(epoch), "tm-m": "m" },
});

/** An event log holding `stored`, counting its reads. */
function logOf(stored: LoggedEvent[]): EventLog & { reads: number } {
  const log = {
    reads: 0,
    async read(_tenant: string, _threadId: string, afterSeq: number) {
      log.reads++;
      return stored.filter((e) => Number(e.headers["tm-s"]) > afterSeq);
    },
    async tail() {
      return stored.length === 0 ? null : { seq: stored.length, activeTurn: null };
    },
    async close() {},
  };
  return log;
}

test("a read started with the snapshot request is the plan when it reaches the snapshot", async () => {
  const stored = [1, 2, 3, 4, 5].map((s) => event(s));
  const log = logOf(stored);
  const plan = await planReplay(log, "t", "th", 2, 5, Promise.resolve(stored.slice(2)));
  assert.equal(plan.recovered, true);
  assert.deepEqual(plan.events.map((e) => e.headers["tm-s"]), ["3", "4", "5"]);
  assert.equal(log.reads, 0, "no second read");
});

test("an early read that stops short of the snapshot, or failed, is read again", async () => {
  const stored = [1, 2, 3, 4, 5].map((s) => event(s));
  const short = logOf(stored);
  const plan = await planReplay(short, "t", "th", 2, 5, Promise.resolve(stored.slice(2, 3)));
  assert.equal(plan.recovered, true);
  assert.deepEqual(plan.events.map((e) => e.headers["tm-s"]), ["3", "4", "5"]);
  assert.equal(short.reads, 1);

  const failed = logOf(stored);
  const again = await planReplay(failed, "t", "th", 2, 5, Promise.reject(new Error("stream unavailable")));
  assert.equal(again.recovered, true);
  assert.equal(failed.reads, 1);
});
