import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBwrap } from "../src/sandbox/bwrap.ts";
import { sandboxUserFor } from "../src/sandbox/sandbox-user.ts";
import { applyResolved, parsePatch, resolvePatch } from "../src/tools/apply-patch.ts";
import { runCommand } from "../src/tools/exec.ts";

const bwrap = findBwrap();
const skip = !(process.getuid?.() === 0) ? "ownership hand-over happens only when the host is root" : bwrap === null && process.env["CI"] !== "true" ? "bubblewrap (bwrap) is not installed" : false;
const user = sandboxUserFor("tenant-owner-test");

function setup() {
  const root = mkdtempSync(join(tmpdir(), "tm-owner-"));
  chmodSync(root, 0o755);
  const ws = join(root, "tenant", "thread");
  mkdirSync(join(ws, "src"), { recursive: true });
  writeFileSync(join(ws, "src", "existing.txt"), "host wrote this\n");
  const outside = join(root, "host-only.txt");
  writeFileSync(outside, "host file\n");
  linkSync(outside, join(ws, "hardlink.txt"));
  return { root, ws, outside };
}

function run(ws: string, root: string, script: string) {
  return runCommand({
    argv: ["/bin/bash", "-c", script],
    cwd: ws,
    timeoutMs: 20_000,
    outputCapBytes: 1 << 16,
    sandbox: { mode: "workspace-write", workspace: ws, writableRoots: [], networkAccess: false },
    bwrapPath: bwrap!,
    user,
    workspaceRoot: join(root, "tenant"),
  });
}

test("a host-made workspace (a client-chosen cwd) is handed to the tenant's user: its files become editable, hard links are left alone", { skip }, async () => {
  const { root, ws, outside } = setup();
  try {
    const r = await run(ws, root, "echo edited >> src/existing.txt && echo new > new.txt && echo tried >> hardlink.txt");
    assert.match(r.output, /hardlink\.txt: Permission denied/);
    assert.equal(readFileSync(join(ws, "src", "existing.txt"), "utf8"), "host wrote this\nedited\n");
    for (const p of [ws, join(ws, "src"), join(ws, "src", "existing.txt"), join(ws, "new.txt")]) assert.equal(statSync(p).uid, user.uid, p);
    assert.equal(statSync(outside).uid, 0, "the hard-linked host file keeps its owner");
    assert.equal(readFileSync(outside, "utf8"), "host file\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("files and directories apply_patch creates in a sandbox user's workspace belong to that user", { skip }, async () => {
  const { root, ws } = setup();
  try {
    await run(ws, root, "true");
    const ops = parsePatch("*** Begin Patch\n*** Add File: deep/er/made.txt\n+by the host\n*** End Patch");
    await applyResolved(await resolvePatch(ops, ws));
    for (const p of [join(ws, "deep"), join(ws, "deep", "er"), join(ws, "deep", "er", "made.txt")]) assert.equal(statSync(p).uid, user.uid, p);
    const r = await run(ws, root, "echo more >> deep/er/made.txt && touch deep/er/second.txt");
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(readFileSync(join(ws, "deep", "er", "made.txt"), "utf8"), "by the host\nmore\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("paths outside the workspace root are never re-owned", { skip }, async () => {
  const { root, ws } = setup();
  try {
    const r = await runCommand({
      argv: ["/bin/true"],
      cwd: ws,
      timeoutMs: 20_000,
      outputCapBytes: 4096,
      sandbox: { mode: "workspace-write", workspace: ws, writableRoots: [], networkAccess: false },
      bwrapPath: bwrap!,
      user,
      workspaceRoot: join(root, "elsewhere"),
    });
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(statSync(join(ws, "src", "existing.txt")).uid, 0);
    assert.equal(statSync(ws).uid, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
