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

test("deltas of separate reads linger and travel as one batch, in order, text exact", async () => {
  const { bus, seen, read } = setup();
  read("a");
  read("b");
  read("c");
  await bus.flush();
  assert.equal(seen.length, 0, "held back until the linger tick");
  await new Promise((r) => setTimeout(r, LINGER_MS * 3));
  await bus.flush();
  assert.equal(seen.length, 1, "one bus message for the three reads");
  assert.equal(seen[0]!.kind, "b");
  assert.deepEqual(seen[0]!.frames.map((f) => [f.delta, f.seq]), [["a", 1], ["b", 2], ["c", 3]]);
  await bus.close();
});

test("any other event publishes the lingering deltas first", async () => {
  const { bus, seen, events, read } = setup();
  read("x");
  read("y");
  events.notify("item/completed", { threadId: "th1", turnId: "u1", item: { type: "agentMessage", id: "i1", text: "xy" } });
  await bus.flush();
  assert.deepEqual(
    seen.flatMap((m) => m.frames.map((f) => `${f.method}#${f.seq}`)),
    ["item/agentMessage/delta#1", "item/agentMessage/delta#2", "item/completed#3"],
  );
  // The tick that follows finds nothing left to publish.
  await new Promise((r) => setTimeout(r, LINGER_MS * 3));
  await bus.flush();
  assert.equal(seen.length, 2);
  await bus.close();
});
