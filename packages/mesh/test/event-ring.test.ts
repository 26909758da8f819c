import { test } from "node:test";
import assert from "node:assert/strict";
import { EventRing } from "../src/event-ring.ts";

const SUBJECT = "tm.v1.acme.ev.th1.t";
const enc = new TextEncoder();
const dec = new TextDecoder();

function fill(ring: EventRing, from: number, to: number, at: (seq: number) => number = () => 0): void {
  for (let seq = from; seq <= to; seq++) {
    ring.push(SUBJECT, enc.encode(`{"delta":"word ${seq} ${"x".repeat(seq % 300)}"}`), { "tm-s": String(seq), "tm-e": "1" }, at(seq), seq);
  }
}

function seqs(ring: EventRing, afterSeq = 0): number[] {
  const out: number[] = [];
  ring.forEachAfter(afterSeq, (last, e) => {
    assert.equal(e.headers["tm-s"], String(last));
    assert.equal(dec.decode(e.data), `{"delta":"word ${last} ${"x".repeat(last % 300)}"}`);
    out.push(last);
  });
  return out;
}

test("events read back whole and in order across many buffers, with subject, headers and payload", () => {
  const ring = new EventRing();
  fill(ring, 1, 2_000);
  assert.equal(ring.count, 2_000);
  assert.ok(ring.bytes > 64 * 1024, "the events span several buffers");
  assert.deepEqual(seqs(ring), Array.from({ length: 2_000 }, (_, i) => i + 1));
  assert.deepEqual(seqs(ring, 1_990), [1_991, 1_992, 1_993, 1_994, 1_995, 1_996, 1_997, 1_998, 1_999, 2_000]);
  assert.deepEqual(ring.newestHeaders, { "tm-s": "2000", "tm-e": "1" });
});

test("a subject other than the ring's, non-ASCII text, a value with a colon and an event larger than a buffer", () => {
  const ring = new EventRing();
  const big = enc.encode("é".repeat(100_000));
  ring.push(SUBJECT, enc.encode("première"), { "tm-s": "1", "tm-k": "a:b:c" }, 0, 1);
  ring.push("tm.v1.acme.ev.th1.b", big, { "tm-s": "2", "tm-f": "2", "tm-x": "" }, 0, 2);
  const got: Array<{ subject: string; headers: Record<string, string>; text: string }> = [];
  ring.forEachAfter(0, (_, e) => got.push({ subject: e.subject, headers: { ...e.headers }, text: dec.decode(e.data) }));
  assert.deepEqual(got, [
    { subject: SUBJECT, headers: { "tm-s": "1", "tm-k": "a:b:c" }, text: "première" },
    { subject: "tm.v1.acme.ev.th1.b", headers: { "tm-s": "2", "tm-f": "2", "tm-x": "" }, text: "é".repeat(100_000) },
  ]);
});

test("keepNewest drops the oldest events, whole buffers at a time where it can, exactly down to the limit", () => {
  const ring = new EventRing();
  fill(ring, 1, 3_000);
  const bytes = ring.bytes;
  ring.keepNewest(1_000);
  assert.equal(ring.count, 1_000);
  assert.ok(ring.bytes < bytes, "buffers of dropped events are let go");
  assert.deepEqual(seqs(ring), Array.from({ length: 1_000 }, (_, i) => i + 2_001));
  for (let seq = 3_001; seq <= 3_500; seq++) {
    fill(ring, seq, seq);
    ring.keepNewest(1_000);
  }
  assert.deepEqual(seqs(ring), Array.from({ length: 1_000 }, (_, i) => i + 2_501));
  ring.keepNewest(0);
  assert.equal(ring.count, 0);
  assert.equal(ring.newestHeaders, null);
  assert.deepEqual(seqs(ring), []);
  fill(ring, 3_501, 3_502);
  assert.deepEqual(seqs(ring), [3_501, 3_502]);
});

test("expire drops the events captured before the cutoff and keeps the rest", () => {
  const ring = new EventRing();
  fill(ring, 1, 2_000, (seq) => seq * 10);
  ring.expire(5_005);
  assert.deepEqual(seqs(ring), Array.from({ length: 1_500 }, (_, i) => i + 501));
  ring.expire(5_005);
  assert.equal(ring.count, 1_500);
  ring.expire(20_001);
  assert.equal(ring.count, 0);
  assert.deepEqual(seqs(ring), []);
  fill(ring, 2_001, 2_003, (seq) => seq * 10);
  assert.deepEqual(seqs(ring), [2_001, 2_002, 2_003]);
});
