import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadConsoleAssets } from "../src/index.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

test("from sources the console is bundled in memory: page, script and styles", async () => {
  const a = await loadConsoleAssets();
  assert.match(a.html, /src="\/console\/app.js"/);
  assert.match(a.html, /href="\/console\/app.css"/);
  assert.ok(a.js.length > 5_000, "preact and the app are in the bundle");
  assert.doesNotMatch(a.js, /from\s*["']preact/, "no bare imports left for the browser to resolve");
  assert.match(a.css, /\.layout/);
});

test("the browser sources typecheck against the DOM", () => {
  const tsc = fileURLToPath(new URL("../../../node_modules/typescript/bin/tsc", import.meta.url));
  const r = spawnSync(process.execPath, [tsc, "-p", "packages/console/web/tsconfig.json"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
