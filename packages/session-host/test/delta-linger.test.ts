import { test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus, type BusMessage } from "@threadmesh/mesh";
import { EventHeader, TEXT_DECODER, threadEventSubject } from "@threadmesh/protocol";
import { DeltaLinger } from "../src/capacity/delta-linger.ts";
import { ThreadEvents } from "../src/thread-events.ts";

const LINGER_MS = 15;

function setup() {
  const bus = new InProcessBus();
  const seen: Array<{ kind: string; frames: Array<{ method: string; delta?: string; seq: number }> }> = [];
  bus.subscribe(threadEventSubject("t1", "th1"), (msg: BusMessage) => {
    const frames = TEXT_DECODER.decode(msg.data).split("\n").map((f) => {
      const n = JSON.parse(f) as { method: string; params: { delta?: string }; seq: number };
      return { method: n.method, delta: n.params.delta, seq: n.seq };
    });
    seen.push({ kind: String(msg.headers?.[EventHeader.Kind]), frames });
  });
  const events = new ThreadEvents({ bus, tenant: "t1", threadId: "th1", epoch: 1, lastSeq: 0, linger: new DeltaLinger(LINGER_MS) });
  /** One model read carrying one delta, as the turn's stream sink emits it. */
  const read = (text: string) => {
    events.cork();
    events.notify("item/agentMessage/delta", { threadId: "th1", turnId: "u1", itemId: "i1", delta: text });
    events.uncork();
  };
  return { bus, seen, events, read };
}

test("the first read of a stream goes at once; the reads after it linger and travel as one batch, in order, text exact", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { bus, seen, read } = setup();
  read("a");
  read("b");
  read("c");
  read("d");
  await bus.flush();
  assert.equal(seen.length, 1, "the first delta is not held back");
  assert.deepEqual(seen[0]!.frames.map((f) => [f.delta, f.seq]), [["a", 1]]);
  t.mock.timers.tick(LINGER_MS);
  await bus.flush();
  assert.equal(seen.length, 2, "one bus message for the three reads after it");
  assert.equal(seen[1]!.kind, "b");
  assert.deepEqual(seen[1]!.frames.map((f) => [f.delta, f.seq]), [["b", 2], ["c", 3], ["d", 4]]);
  await bus.close();
});

test("any other event publishes the lingering deltas first, and the next stream starts at once again", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { bus, seen, events, read } = setup();
  read("w");
  read("x");
  read("y");
  events.notify("item/completed", { threadId: "th1", turnId: "u1", item: { type: "agentMessage", id: "i1", text: "wxy" } });
  read("z");
  await bus.flush();
  assert.deepEqual(
    seen.flatMap((m) => m.frames.map((f) => `${f.method}#${f.seq}`)),
    ["item/agentMessage/delta#1", "item/agentMessage/delta#2", "item/agentMessage/delta#3", "item/completed#4", "item/agentMessage/delta#5"],
  );
  assert.equal(seen.length, 4, "w alone, x+y as one batch, item/completed, z alone");
  // The tick that follows finds nothing left to publish.
  t.mock.timers.tick(LINGER_MS);
  await bus.flush();
  assert.equal(seen.length, 4);
  await bus.close();
});
