import { test } from "node:test";
import assert from "node:assert/strict";
import type { BusHeaders } from "../src/bus.ts";
import { MsgHdrsImpl } from "@nats-io/transport-node";
import { decodeHeaderBytes, slowMsgHdrs, toMsgHdrs } from "../src/nats-headers.ts";

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

/** What reading nats.js's own decoding gives: the first value of each key; no keys, undefined. */
function natsDecoded(block: string): BusHeaders | undefined {
  const h = MsgHdrsImpl.decode(Buffer.from(block, "utf8"));
  let out: BusHeaders | undefined;
  for (const [key, values] of h) if (values[0] !== undefined) (out ??= {})[key] = values[0];
  return out;
}

test("received header blocks decode to what nats.js's decoding gives", () => {
  const blocks = [
    "NATS/1.0\r\ntm-m: item/agentMessage/delta\r\ntm-k: n\r\ntm-t: thr_1\r\ntm-s: 42\r\ntm-e: 3\r\ntm-a: turn_1\r\n\r\n",
    "NATS/1.0\r\ntm-au: [\"u1\",\"u2\"]\r\n\r\n",
    "NATS/1.0\r\nMixed:   padded value  \r\ndup: 1\r\ndup: 2\r\nu: ü é\r\nno colon\r\n\r\n",
    "NATS/1.0\r\nx:\r\ny: a:b\r\n\r\n",
    "NATS/1.0\r\n\r\n",
  ];
  for (const block of blocks) assert.deepEqual(decodeHeaderBytes(Buffer.from(block, "utf8")), natsDecoded(block), block);
  // A header block inside a larger buffer (as nats.js hands it over).
  const whole = Buffer.from("NATS/1.0\r\na: 1\r\n\r\npayload", "utf8");
  assert.deepEqual(decodeHeaderBytes(whole.subarray(0, whole.indexOf("payload"))), { a: "1" });
});

test("status blocks and keys nats.js rejects are left to nats.js", () => {
  for (const block of ["NATS/1.0 503\r\n\r\n", "NATS/1.0 408 Request Timeout\r\n\r\n", "NATS/1.0\r\na b: 1\r\n\r\n", "NATS/1.0\r\n: v\r\n\r\n", "HTTP/1.1\r\n\r\n"]) {
    assert.equal(decodeHeaderBytes(Buffer.from(block, "utf8")), null, block);
  }
});
