import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, encodeError, parseInbound, scanJsonDepth } from "@threadmesh/protocol";

const nested = (depth: number, open = "[", close = "]"): string => open.repeat(depth) + close.repeat(depth);

test("depth counts arrays and objects, the frame's own object included", () => {
  assert.equal(scanJsonDepth('{"a":1}', 1).tooDeep, false);
  assert.equal(scanJsonDepth('{"a":{}}', 1).tooDeep, true);
  assert.equal(scanJsonDepth(nested(64), 64).tooDeep, false);
  assert.equal(scanJsonDepth(nested(65), 64).tooDeep, true);
  assert.equal(scanJsonDepth(`{"p":${nested(10, '{"x":', "}").replace(/\{"x":\}/, '{"x":1}')}}`, 11).tooDeep, false);
});

test("brackets inside strings, escaped quotes and backslashes do not count", () => {
  const s = JSON.stringify({ a: "[[[[[[[[[[{{{{{{{{", b: 'x\\"[[[[[', c: "\\\\", d: "\\\\\"[[[[" });
  assert.equal(scanJsonDepth(s, 1).tooDeep, false);
  // After an escaped backslash the quote closes the string: the bracket that follows counts.
  assert.equal(scanJsonDepth('{"a":"\\\\",  "b":[[]]}', 2).tooDeep, true);
});

test("the top-level id and method are picked even after deep params", () => {
  const deep = nested(500);
  const a = scanJsonDepth(`{"method":"thread/list","params":${deep},"id":"req-7"}`, 64);
  assert.deepEqual(a, { tooDeep: true, idRaw: '"req-7"', hasMethod: true });
  const b = scanJsonDepth(`{"id":-42,"params":{"id":"inner","method":"x","p":${deep}}}`, 64);
  assert.deepEqual(b, { tooDeep: true, idRaw: "-42", hasMethod: false });
  const c = scanJsonDepth(`{"\\u0069d":12,"method":"m","params":${deep}}`, 64);
  assert.equal(c.idRaw, "12");
  assert.equal(c.hasMethod, true);
});

test("a deep request is refused before parsing, with its id when the id is valid", () => {
  const limits = { maxDepth: 64, maxIdChars: 16 };
  const withId = parseInbound(`{"id":9007199254740993,"method":"thread/list","params":{"x":${nested(100_000)}}}`, limits);
  assert.equal(withId.kind, "invalid");
  if (withId.kind !== "invalid") return;
  assert.equal(withId.code, ErrorCode.InvalidRequest);
  assert.equal(withId.idText, "9007199254740993");
  assert.deepEqual(withId.data, { reason: "nestingTooDeep", limit: 64 });
  assert.match(encodeError(withId.idText, withId), /^\{"id":9007199254740993,"error":\{"code":-32600/);
  for (const badId of ["1.5", "null", "true", '{"a":1}', `"${"x".repeat(17)}"`, "123456789012345678901234"]) {
    const m = parseInbound(`{"id":${badId},"method":"thread/list","params":${nested(100)}}`, limits);
    assert.equal(m.kind === "invalid" && m.idText, null, badId);
  }
  const answer = parseInbound(`{"id":3,"result":${nested(100)}}`, limits);
  assert.equal(answer.kind === "invalid" && answer.idText, null, "a deep answer is not echoed as if it were a request");
  const escaped = parseInbound(`{"id":"a\\u0062c","method":"m","params":${nested(100)}}`, limits);
  assert.equal(escaped.kind === "invalid" && escaped.idText, '"abc"');
});

test("frames within the depth limit parse as before; long string ids are invalid", () => {
  const limits = { maxDepth: 8, maxIdChars: 4 };
  const ok = parseInbound('{"id":"abcd","method":"thread/list","params":{"a":[[1]]}}', limits);
  assert.equal(ok.kind, "request");
  const long = parseInbound('{"id":"abcde","method":"thread/list","params":{}}', limits);
  assert.deepEqual(long.kind === "invalid" && [long.code, long.idText], [ErrorCode.InvalidRequest, null]);
});

test("a batch and a malformed deep frame are refused with id null", () => {
  const limits = { maxDepth: 8, maxIdChars: 64 };
  const batch = parseInbound(`[{"id":1,"method":"x"}]`, limits);
  assert.equal(batch.kind === "invalid" && batch.idText, null);
  const broken = parseInbound(`{"id":1,"method":"x","params":${"[".repeat(50)}`, limits);
  assert.equal(broken.kind, "invalid");
  const unterminated = scanJsonDepth('{"id":"abc', 8);
  assert.equal(unterminated.tooDeep, false);
});

test("a long string full of escaped quotes and brackets is skipped whole", () => {
  const big = JSON.stringify({ params: { s: '"[{\\'.repeat(200_000) }, id: 1, method: "m" });
  assert.deepEqual(scanJsonDepth(big, 2), { tooDeep: false, idRaw: "1", hasMethod: true });
});
