import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TEXT_DECODER, TEXT_ENCODER, encodeNotification, frameMethod, splitEventBatch } from "../src/index.ts";

describe("event batches", () => {
  test("split on raw newlines only; escaped newlines inside strings stay in their frame", () => {
    const frames = [encodeNotification("a/b", { text: "x\ny" }), encodeNotification("c", {}), encodeNotification("item/agentMessage/delta", { delta: "" })];
    const parts = splitEventBatch(TEXT_ENCODER.encode(frames.join("\n")));
    assert.deepEqual(parts.map((p) => TEXT_DECODER.decode(p)), frames);
    assert.deepEqual(parts.map(frameMethod), ["a/b", "c", "item/agentMessage/delta"]);
  });

  test("a single frame is a batch of one", () => {
    const f = encodeNotification("turn/started", { x: 1 });
    assert.deepEqual(splitEventBatch(TEXT_ENCODER.encode(f)).map((p) => TEXT_DECODER.decode(p)), [f]);
  });

  test("frameMethod is empty for bytes that are not a notification frame", () => {
    assert.equal(frameMethod(TEXT_ENCODER.encode('{"id":1,"result":{}}')), "");
    assert.equal(frameMethod(TEXT_ENCODER.encode('{"method":"unterminated')), "");
    assert.equal(frameMethod(new Uint8Array(0)), "");
  });
});
