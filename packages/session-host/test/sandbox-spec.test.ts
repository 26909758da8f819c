import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPathWritable, sandboxSpecFromPolicy, type SandboxSpec } from "../src/sandbox/sandbox-spec.ts";

const base = realpathSync(mkdtempSync(join(tmpdir(), "tm-spec-")));
const ws = join(base, "ws");
const outside = join(base, "outside");
const extra = join(base, "extra");
for (const d of [ws, outside, extra]) mkdirSync(d);
process.on("exit", () => rmSync(base, { recursive: true, force: true }));

const writeSpec: SandboxSpec = { mode: "workspace-write", workspace: ws, writableRoots: [extra], networkAccess: false };

test("policies map to specs", () => {
  assert.deepEqual(sandboxSpecFromPolicy({ type: "dangerFullAccess" }, ws), {
    mode: "danger-full-access",
    workspace: ws,
    writableRoots: [],
    networkAccess: true,
  });
  assert.deepEqual(sandboxSpecFromPolicy({ type: "readOnly", networkAccess: false }, ws), {
    mode: "read-only",
    workspace: ws,
    writableRoots: [],
    networkAccess: false,
  });
  assert.deepEqual(
    sandboxSpecFromPolicy(
      { type: "workspaceWrite", writableRoots: [extra, extra], networkAccess: true, excludeSlashTmp: false, excludeTmpdirEnvVar: false },
      ws,
    ),
    { mode: "workspace-write", workspace: ws, writableRoots: [extra], networkAccess: true },
  );
  assert.deepEqual(sandboxSpecFromPolicy({ type: "externalSandbox", networkAccess: "restricted" }, ws), {
    mode: "danger-full-access",
    workspace: ws,
    writableRoots: [],
    networkAccess: false,
  });
});

test("full access allows any path and read-only none", () => {
  assert.equal(isPathWritable("/etc/passwd", { ...writeSpec, mode: "danger-full-access" }), true);
  assert.equal(isPathWritable(join(ws, "a.txt"), { ...writeSpec, mode: "read-only" }), false);
});

test("workspace-write allows the workspace, paths below it that do not exist yet, and writable roots", () => {
  assert.equal(isPathWritable(ws, writeSpec), true);
  assert.equal(isPathWritable(join(ws, "a.txt"), writeSpec), true);
  assert.equal(isPathWritable(join(ws, "new", "deep", "b.txt"), writeSpec), true);
  assert.equal(isPathWritable(join(extra, "c.txt"), writeSpec), true);
});

test("workspace-write refuses paths outside, including via '..' and relative paths", () => {
  assert.equal(isPathWritable(join(outside, "x"), writeSpec), false);
  assert.equal(isPathWritable(`${ws}/../outside/x`, writeSpec), false);
  assert.equal(isPathWritable(`${ws}/new/../../outside/x`, writeSpec), false);
  assert.equal(isPathWritable(`${ws}-sibling/x`, writeSpec), false);
  assert.equal(isPathWritable("relative/x", writeSpec), false);
});

test("workspace-write refuses symlinks that lead out, even dangling ones", () => {
  symlinkSync(outside, join(ws, "link-out"));
  symlinkSync(join(outside, "missing", "file"), join(ws, "dangling"));
  symlinkSync(join(ws, "sub"), join(ws, "link-in"));
  assert.equal(isPathWritable(join(ws, "link-out", "x"), writeSpec), false);
  assert.equal(isPathWritable(join(ws, "link-out"), writeSpec), false);
  assert.equal(isPathWritable(join(ws, "dangling"), writeSpec), false);
  assert.equal(isPathWritable(join(ws, "link-in", "y"), writeSpec), true);
});

test("a workspace given through a symlink still matches its real paths", () => {
  const alias = join(base, "ws-alias");
  symlinkSync(ws, alias);
  const viaAlias: SandboxSpec = { ...writeSpec, workspace: alias };
  assert.equal(isPathWritable(join(ws, "a"), viaAlias), true);
  assert.equal(isPathWritable(join(alias, "a"), writeSpec), true);
  assert.equal(isPathWritable(join(outside, "a"), viaAlias), false);
});
