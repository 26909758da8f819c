import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_LIMITS, type TenantLimits } from "@threadmesh/protocol";
import { loadConfig, ConfigError, helpText } from "../src/config.ts";
import { OPTIONS } from "../src/options.ts";
import { tenantLimitsOf } from "../src/tenant-limits.ts";

test("defaults apply when nothing is set", () => {
  const c = loadConfig("dev", [], {});
  assert.equal(c.port, 8765);
  assert.equal(c.databaseUrl, "sqlite:./data/threadmesh.db");
  assert.equal(c.approvalPolicy, "on-request");
});

test("flags win over environment", () => {
  const c = loadConfig("router", ["--port", "0", "--allowed-origins=https://a.example,https://b.example"], { THREADMESH_PORT: "9000" });
  assert.equal(c.port, 0);
  assert.deepEqual(c.allowedOrigins, ["https://a.example", "https://b.example"]);
});

test("every bad key is listed at once", () => {
  assert.throws(
    () => loadConfig("dev", ["--port", "-3", "--bogus", "1", "--sandbox", "wide-open"], { THREADMESH_MAX_FRAME_BYTES: "lots" }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 4);
      assert.match(e.message, /--port: must be ≥ 0/);
      assert.match(e.message, /--bogus: unknown option/);
      assert.match(e.message, /--sandbox: must be one of/);
      assert.match(e.message, /THREADMESH_MAX_FRAME_BYTES: must be an integer/);
      return true;
    },
  );
});

test("options of other commands are refused", () => {
  assert.throws(() => loadConfig("migrate", ["--port", "1"], {}), ConfigError);
});

test("every tenant limit is an option whose value reaches the limits", () => {
  const env: Record<string, string> = {};
  const expected: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof TenantLimits)[]) {
    const o = OPTIONS.find((x) => x.key === key);
    assert.ok(o && o.commands.includes("dev"), `${key} is an option of threadmesh dev`);
    expected[key] = DEFAULT_LIMITS[key] + 1;
    env[o.env] = String(expected[key]);
  }
  assert.deepEqual(tenantLimitsOf(loadConfig("dev", [], env)), expected);
  assert.deepEqual(tenantLimitsOf(loadConfig("dev", [], {})), DEFAULT_LIMITS);
});

test("help lists every option of the command with its variable", () => {
  const h = helpText("host", "a session host");
  assert.match(h, /--workspace-root\s+THREADMESH_WORKSPACE_ROOT/);
  assert.doesNotMatch(h, /--allowed-origins/);
});

test("the README's configuration table lists every option with its variable and flag", async () => {
  const { readFileSync } = await import("node:fs");
  const { OPTIONS } = await import("../src/options.ts");
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const missing = OPTIONS.filter((o) => !readme.includes(`| \`${o.env}\` | \`${o.flag}\` |`)).map((o) => o.env);
  assert.deepEqual(missing, []);
});
