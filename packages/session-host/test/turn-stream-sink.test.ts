import { test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus, type BusMessage } from "@threadmesh/mesh";
import { TEXT_DECODER, threadEventSubject } from "@threadmesh/protocol";
import { EncodedParams, ThreadEvents } from "../src/thread-events.ts";
import type { ActiveTurn } from "../src/turn/active-turn.ts";
import type { TurnContext } from "../src/turn/turn-context.ts";
import { TurnStreamSink } from "../src/turn/turn-stream-sink.ts";

const TEXTS = [" plain", 'quo"te', "back\\slash", "line\nbreak", "tab\t", "ü é 日本", "emoji 🧵", "\u2028sep", "ctl\u0001", ""];

test("a streamed delta's params are the bytes JSON.stringify gives for them, item after item", () => {
  const emitted: Array<{ method: string; params: unknown }> = [];
  const turn = { id: "turn-1", emit: (method: string, params: unknown) => emitted.push({ method, params }) } as unknown as ActiveTurn;
  const ctx = { threadId: 'thr-"1"' } as unknown as TurnContext;
  const sink = new TurnStreamSink(ctx, turn, new AbortController().signal);
  const expected: string[] = [];
  for (const itemId of ["msg_a", "msg_b", "msg_a"]) {
    for (const delta of TEXTS) {
      sink.messageDelta(itemId, delta);
      expected.push(JSON.stringify({ threadId: 'thr-"1"', turnId: "turn-1", itemId, delta }));
    }
  }
  assert.deepEqual(
    emitted.map((e) => e.method),
    expected.map(() => "item/agentMessage/delta"),
  );
  assert.deepEqual(
    emitted.map((e) => (e.params as EncodedParams).json),
    expected,
  );
});

test("a notification with encoded params publishes the same frame as one with the params object", async () => {
  const bus = new InProcessBus();
  const frames: string[] = [];
  bus.subscribe(threadEventSubject("t1", "th1"), (msg: BusMessage) => frames.push(TEXT_DECODER.decode(msg.data)));
  const objects = new ThreadEvents({ bus, tenant: "t1", threadId: "th1", epoch: 2, lastSeq: 0 });
  const params = { threadId: "th1", turnId: "u1", itemId: "i1", delta: 'say "hi"\n' };
  objects.notify("item/agentMessage/delta", params);
  const encoded = new ThreadEvents({ bus, tenant: "t1", threadId: "th1", epoch: 2, lastSeq: 0 });
  encoded.notify("item/agentMessage/delta", new EncodedParams(JSON.stringify(params)));
  await bus.flush();
  assert.equal(frames.length, 2);
  const strip = (f: string) => f.replace(/"emittedAtMs":\d+/, "");
  assert.equal(strip(frames[1]!), strip(frames[0]!));
  assert.deepEqual(JSON.parse(frames[1]!).params, params);
  await bus.close();
});
