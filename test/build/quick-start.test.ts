import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { quickStartBlock, runQuickStart, type QuickStart } from "./quick-start.ts";
import { completeTurn } from "./turn.ts";

let running: QuickStart | null = null;
after(async () => {
  await running?.stop();
});

test("the README's distributed quick start, pasted as written, serves a turn", async () => {
  const block = quickStartBlock(readFileSync(resolve(import.meta.dirname, "../../README.md"), "utf8"));
  running = await runQuickStart(block);
  const token = /THREADMESH_TOKEN=(\S+)/.exec(block)?.[1] ?? null;
  const turn = await completeTurn(running.url, token);
  assert.equal(turn.status, "completed", running.script);
  assert.ok(turn.text.length > 0);
});
