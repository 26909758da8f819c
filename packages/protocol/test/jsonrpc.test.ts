import { test } from "node:test";
import assert from "node:assert/strict";
import { parseInbound, encodeResult, encodeError, validateParams, ErrorCode, RpcError } from "@threadmesh/protocol";

test("big integer ids are echoed exactly", () => {
  const m = parseInbound('{"id":9007199254740993,"method":"thread/list","params":{}}');
  assert.equal(m.kind, "request");
  if (m.kind !== "request") return;
  assert.equal(encodeResult(m.idText, {}), '{"id":9007199254740993,"result":{}}');
});

test("negative and string ids are echoed", () => {
  const a = parseInbound('{"id":-5,"method":"x"}');
  const b = parseInbound('{"id":"abc","method":"x"}');
  assert.equal(a.kind === "request" && a.idText, "-5");
  assert.equal(b.kind === "request" && b.idText, '"abc"');
});

test("unparsable JSON is a parse error with id null", () => {
  const m = parseInbound("{nope");
  assert.equal(m.kind, "invalid");
  if (m.kind !== "invalid") return;
  assert.equal(m.code, ErrorCode.ParseError);
  assert.match(encodeError(m.idText, { code: m.code, message: m.message }), /^\{"id":null,"error":\{"code":-32700/);
});

test("batch arrays are rejected", () => {
  const m = parseInbound("[]");
  assert.deepEqual(m.kind === "invalid" && [m.code, m.message], [ErrorCode.InvalidRequest, "batch requests are not supported"]);
});

test("frames with nothing to answer to are ignored, as Codex ignores them: float and null ids, non-objects, no method and no id", () => {
  for (const frame of ['{"id":1.5,"method":"x"}', '{"id":null,"method":"x"}', '{"id":{},"method":"x"}', "{}", "42", '"s"', "null", '{"foo":1}']) {
    assert.equal(parseInbound(frame).kind, "ignored", frame);
  }
  // With an id there is someone to answer.
  assert.deepEqual(parseInbound('{"id":7}'), { kind: "invalid", code: ErrorCode.InvalidRequest, message: "Invalid request: missing field `method`", idText: "7" });
});

test("a jsonrpc member is accepted", () => {
  assert.equal(parseInbound('{"jsonrpc":"2.0","id":1,"method":"x","params":{}}').kind, "request");
});

test("bad params name the field", () => {
  assert.throws(
    () => validateParams("turn/start", { input: [] }, true, { experimentalApi: false }),
    (e: unknown) => e instanceof RpcError && e.code === ErrorCode.InvalidParams && /`threadId`/.test(e.message),
  );
});

test("unknown methods are -32601", () => {
  assert.throws(
    () => validateParams("no/such", {}, true, { experimentalApi: false }),
    (e: unknown) => e instanceof RpcError && e.code === ErrorCode.MethodNotFound,
  );
});

test("experimental fields need the capability", () => {
  assert.throws(
    () => validateParams("thread/start", { dynamicTools: [] }, true, { experimentalApi: false }),
    (e: unknown) => e instanceof RpcError && e.message === "thread/start.dynamicTools requires experimentalApi capability",
  );
  assert.doesNotThrow(() => validateParams("thread/start", { dynamicTools: [] }, true, { experimentalApi: true }));
});

test("oversized input is input_too_large", () => {
  const text = "x".repeat(11);
  assert.throws(
    () => validateParams("turn/start", { threadId: "t", input: [{ type: "text", text }] }, true, { experimentalApi: false, maxInputChars: 10 }),
    (e: unknown) =>
      e instanceof RpcError && e.code === ErrorCode.InvalidParams && (e.data as { actual_chars: number }).actual_chars === 11,
  );
});
