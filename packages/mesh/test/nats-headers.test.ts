import { test } from "node:test";
import assert from "node:assert/strict";
import type { BusHeaders } from "../src/bus.ts";
import { slowMsgHdrs, toMsgHdrs } from "../src/nats-headers.ts";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

test("headers encode to the bytes nats.js gives for the same headers, in order, values trimmed", () => {
  const cases: BusHeaders[] = [
    { "tm-m": "item/agentMessage/delta", "tm-k": "n", "tm-t": "thr_1", "tm-s": "42", "tm-e": "3", "tm-a": "turn_1" },
    { "tm-k": "b", "tm-t": "th", "tm-s": "11", "tm-f": "10", "tm-e": "2" },
    { "tm-au": '["u1","u2"]', traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    { Mixed: "  padded value  ", "tm-part": "abc 0 2", u: "ü é" },
  ];
  for (const h of cases) {
    const fast = toMsgHdrs(h);
    assert.equal(text(fast.encode()), text(slowMsgHdrs(h).encode()));
  }
  assert.equal(text(toMsgHdrs({ a: "1", b: "2" }).encode()), "NATS/1.0\r\na: 1\r\nb: 2\r\n\r\n");
});

test("invalid keys and values get nats.js's own errors; no keys encode as nats.js does", () => {
  assert.throws(() => toMsgHdrs({ "a:b": "1" }), /not a valid character/);
  assert.throws(() => toMsgHdrs({ "a b": "1" }), /not a valid character/);
  assert.throws(() => toMsgHdrs({ a: "x\r\ny: z" }), /cannot contain/);
  assert.equal(toMsgHdrs({}).encode().length, slowMsgHdrs({}).encode().length);
});
