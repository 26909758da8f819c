import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isUuid, newId } from "../src/index.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("ids", () => {
  test("newId gives UUIDv7 strings carrying the current millisecond, ascending even within one millisecond", () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    const after = Date.now();
    for (const id of ids) assert.match(id, V7);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
    assert.equal(new Set(ids).size, ids.length);
    const ms = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms(ids[0]!) >= before && ms(ids.at(-1)!) <= after + 1, "the timestamp is the clock's");
  });

  test("isUuid accepts any version, the nil and max UUIDs and the urn form; rejects other shapes", () => {
    assert.ok(isUuid(newId()));
    assert.ok(isUuid("urn:uuid:" + newId()));
    assert.ok(isUuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
    assert.ok(isUuid("00000000-0000-0000-0000-000000000000"));
    assert.ok(isUuid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
    for (const s of ["", "not-a-uuid", "6ba7b810-9dad-91d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-c0b4-00c04fd430c8", "6ba7b8109dad11d180b400c04fd430c8"]) assert.equal(isUuid(s), false, s);
  });
});
