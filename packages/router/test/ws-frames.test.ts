import { test } from "node:test";
import assert from "node:assert/strict";
import type { Writable } from "node:stream";
import * as ws from "ws";
import { encodeTextFrames } from "../src/ws-frames.ts";

test("encodeTextFrames writes unmasked text frames a WebSocket client reads back, at every length encoding", () => {
  const payloads: Array<string | Uint8Array> = ["", "hi", "é€😀".repeat(40), "x".repeat(125), "y".repeat(126), "z".repeat(65_535), "w".repeat(65_536), new TextEncoder().encode('{"a":"bytes"}')];
  const expected = payloads.map((p) => (typeof p === "string" ? p : new TextDecoder().decode(p)));
  const got: string[] = [];
  // The frame parser of `ws` itself, as a client uses it (its typings leave it out).
  const { Receiver } = ws as unknown as { Receiver: new (opts: { isServer: boolean; maxPayload: number }) => Writable };
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  receiver.on("message", (data: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    got.push(data.toString("utf8"));
  });
  const errors: Error[] = [];
  receiver.on("error", (err: Error) => errors.push(err));
  // The middle of the list only, as a flush between two large frames writes it.
  const buf = encodeTextFrames(["skipped", ...payloads, "skipped too"], 1, payloads.length + 1);
  receiver.write(buf);
  assert.deepEqual(errors, []);
  assert.equal(got.length, expected.length);
  got.forEach((g, i) => assert.equal(g, expected[i], `frame ${i}`));
});
