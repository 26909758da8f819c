import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_LIMITS, RpcError, applyParamLimits, resolveLimits, validateParams } from "@threadmesh/protocol";

const limits = resolveLimits({
  maxInstructionsChars: 10,
  maxInputItems: 3,
  maxInputImages: 1,
  maxInputBytes: 40,
  maxThreadNameChars: 5,
  maxIdChars: 6,
  maxCursorChars: 8,
  maxPageSize: 20,
});
const TID = "0190d3a4-0000-7000-8000-000000000001";

/** Validates like the router does, then applies the limits; returns the params or the wire error. */
function run(method: string, params: Record<string, unknown>): { params?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } } {
  try {
    const v = validateParams(method, params, true, { experimentalApi: false, maxInputChars: limits.maxInputChars });
    applyParamLimits(v.name, v.params, limits);
    return { params: v.params as Record<string, unknown> };
  } catch (err) {
    assert.ok(err instanceof RpcError);
    return { error: err.toShape() };
  }
}

test("instructions beyond the limit are -32602 naming the field and the limit", () => {
  for (const method of ["thread/start", "thread/resume", "thread/fork"]) {
    for (const field of ["baseInstructions", "developerInstructions"]) {
      const r = run(method, { threadId: TID, [field]: "x".repeat(11) });
      assert.equal(r.error?.code, -32602, `${method} ${field}`);
      assert.match(r.error!.message, new RegExp(`\`${field}\` exceeds the maximum of 10 characters`));
      assert.deepEqual(r.error!.data, { reason: "tooLarge", field, limit: 10, actual: 11 });
      assert.equal(run(method, { threadId: TID, [field]: "x".repeat(10) }).error, undefined);
    }
  }
});

test("turn input: items, images and total bytes are limited", () => {
  const text = (t: string) => ({ type: "text", text: t });
  assert.equal(run("turn/start", { threadId: TID, input: [text("a"), text("b"), text("c")] }).error, undefined);
  assert.deepEqual(run("turn/start", { threadId: TID, input: [text("a"), text("b"), text("c"), text("d")] }).error?.data, { reason: "tooLarge", field: "input", limit: 3, actual: 4 });
  const img = { type: "image", url: "data:image/png;base64,AA==" };
  const two = run("turn/steer", { threadId: TID, expectedTurnId: "t", input: [img, img] });
  assert.equal(two.error?.code, -32602);
  assert.match(two.error!.message, /maximum of 1 images/);
  // "é" is two bytes: 21 of them are 42 bytes.
  const bytes = run("turn/start", { threadId: TID, input: [text("é".repeat(21))] });
  assert.deepEqual(bytes.error?.data, { reason: "tooLarge", field: "input", limit: 40, actual: 42 });
});

test("names, ids and cursors are limited", () => {
  assert.equal(run("thread/name/set", { threadId: TID, name: "abcdef" }).error?.code, -32602);
  assert.equal(run("thread/name/set", { threadId: TID, name: "abcde" }).error, undefined);
  assert.match(run("turn/interrupt", { threadId: TID, turnId: "1234567" }).error!.message, /`turnId`/);
  assert.match(run("turn/start", { threadId: TID, input: [], clientUserMessageId: "1234567" }).error!.message, /`clientUserMessageId`/);
  assert.match(run("thread/list", { cursor: "123456789" }).error!.message, /`cursor`/);
  assert.match(run("thread/items/list", { threadId: TID, turnId: "t", cursor: { type: "item", itemId: "1234567" } }).error!.message, /`cursor.itemId`/);
});

test("page sizes are clamped to the maximum; an absent loaded-list limit gets the maximum", () => {
  assert.equal(run("thread/list", { limit: 1e9 }).params?.limit, 20);
  assert.equal(run("thread/turns/list", { threadId: TID, limit: 21 }).params?.limit, 20);
  assert.equal(run("thread/items/list", { threadId: TID, limit: 7 }).params?.limit, 7);
  assert.equal(run("model/list", { limit: 4294967295 }).params?.limit, 20);
  assert.equal(run("thread/loaded/list", {}).params?.limit, 20);
  assert.equal(run("thread/list", {}).params?.limit, undefined, "other listings keep their own default");
  for (const limit of [-1, 1.5, "10", 4294967296]) assert.equal(run("thread/list", { limit }).error?.code, -32602, String(limit));
});

test("limits resolve from defaults and refuse values that are not positive integers", () => {
  assert.equal(resolveLimits().maxPageSize, DEFAULT_LIMITS.maxPageSize);
  assert.equal(resolveLimits({ maxPageSize: 7 }).maxPageSize, 7);
  assert.throws(() => resolveLimits({ maxPageSize: 0 }), /maxPageSize must be an integer >= 1/);
  assert.throws(() => resolveLimits({ maxJsonDepth: 1.5 }), /maxJsonDepth/);
  assert.throws(() => resolveLimits({ bogus: 1 } as never), /unknown limit bogus/);
  assert.ok(Object.isFrozen(resolveLimits()));
});
