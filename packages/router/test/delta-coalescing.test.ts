import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeNotification } from "@threadmesh/protocol";
import { encodeCoalesced, parseDelta } from "../src/delta-coalescing.ts";

const TEXTS = [" plain", 'quo"te', "back\\slash\\", "ends with \\\\", "line\nbreak", "tab\t", "ü é 日本", "emoji 🧵", "\u2028sep", "ctl\u0001", ""];

/** A delta frame as the host writes it. */
function hostFrame(method: string, params: Record<string, unknown>, seq: number): string {
  return encodeNotification(method, params, { seq, epoch: 3 });
}

/** The frame the parsed (JSON) path gives for the joined deltas. */
function parsedJoin(frames: string[], firstSeq: number): string {
  const notes = frames.map((f) => JSON.parse(f) as Record<string, unknown> & { params: Record<string, unknown> });
  const last = notes.at(-1)!;
  return encodeCoalesced(last, notes.map((n) => n.params.delta as string).join(""), firstSeq);
}

test("host delta frames join as text into the bytes the parsed join gives", () => {
  for (const [method, extra] of [
    ["item/agentMessage/delta", {}],
    ["item/reasoning/summaryTextDelta", { summaryIndex: 2 }],
    ["item/reasoning/textDelta", { contentIndex: 0 }],
  ] as const) {
    const frames = TEXTS.map((delta, i) => hostFrame(method, { threadId: "th-1", turnId: "tu-1", itemId: "msg_1", delta, ...extra }, 10 + i));
    const parsed = frames.map((f) => parseDelta(f)!);
    assert.ok(parsed.every((p) => p.key === parsed[0]!.key), "one item, one key");
    assert.ok(parsed.every((p) => "raw" in p.note), "read as text, not parsed");
    const joined = encodeCoalesced(parsed.at(-1)!.note, parsed.map((p) => p.delta).join(""), 10);
    assert.equal(joined, parsedJoin(frames, 10));
    assert.equal((JSON.parse(joined) as { params: { delta: string } }).params.delta, TEXTS.join(""));
    // From bytes too, as frames arrive from the bus.
    assert.equal(parseDelta(Buffer.from(frames[0]!, "utf8"))!.key, parsed[0]!.key);
  }
});

test("a frame that joined deltas joins on with the next ones of its item, as parsed frames do", () => {
  const params = { threadId: "th-1", turnId: "tu-1", itemId: "msg_1" };
  const joined = `${hostFrame("item/agentMessage/delta", { ...params, delta: "ab" }, 2).slice(0, -1)},"firstSeq":1}`;
  const next = hostFrame("item/agentMessage/delta", { ...params, delta: 'c"' }, 3);
  const [a, b] = [parseDelta(joined)!, parseDelta(next)!];
  assert.ok("raw" in a.note && "raw" in b.note);
  assert.equal(a.key, b.key);
  assert.equal(encodeCoalesced(b.note, a.delta + b.delta, 1), parsedJoin([joined, next], 1));
  // Without a first seq the joined frame keeps the one it had, as the parsed join does.
  assert.equal(encodeCoalesced(a.note, a.delta, NaN), encodeCoalesced(JSON.parse(joined), "ab", NaN));
});

test("deltas of different items, turns, threads, indexes or methods never share a key", () => {
  const base = { threadId: "th-1", turnId: "tu-1", itemId: "msg_1", delta: "x" };
  const keys = [
    hostFrame("item/agentMessage/delta", base, 1),
    hostFrame("item/agentMessage/delta", { ...base, itemId: "msg_2" }, 2),
    hostFrame("item/agentMessage/delta", { ...base, turnId: "tu-2" }, 3),
    hostFrame("item/agentMessage/delta", { ...base, threadId: "th-2" }, 4),
    hostFrame("item/plan/delta", base, 5),
    hostFrame("item/reasoning/summaryTextDelta", { ...base, summaryIndex: 0 }, 6),
    hostFrame("item/reasoning/summaryTextDelta", { ...base, summaryIndex: 1 }, 7),
  ].map((f) => parseDelta(f)!.key);
  assert.equal(new Set(keys).size, keys.length);
});

test("frames in any other layout are parsed, joined as before, and never joined with host-layout ones", () => {
  const odd = JSON.stringify({ params: { delta: "a", itemId: "msg_1", threadId: "th-1", turnId: "tu-1" }, method: "item/agentMessage/delta", seq: 1 });
  const escapedId = hostFrame("item/agentMessage/delta", { threadId: 'th-"1"', turnId: "tu-1", itemId: "msg_1", delta: "b" }, 2);
  const hostLike = hostFrame("item/agentMessage/delta", { threadId: "th-1", turnId: "tu-1", itemId: "msg_1", delta: "c" }, 3);
  const a = parseDelta(odd)!;
  const b = parseDelta(escapedId)!;
  assert.equal(a.delta, "a");
  assert.equal(b.delta, "b");
  assert.notEqual(a.key, parseDelta(hostLike)!.key);
  assert.equal(encodeCoalesced(b.note, "bb", 1), JSON.stringify({ ...JSON.parse(escapedId), params: { ...JSON.parse(escapedId).params, delta: "bb" }, firstSeq: 1 }));
  assert.equal(parseDelta("not json"), null);
  assert.equal(parseDelta(JSON.stringify({ method: "item/agentMessage/delta", params: { itemId: "i" } })), null);
});
