import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBwrap, SandboxUnavailableError, wrapCommand } from "../src/sandbox/bwrap.ts";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";

const BWRAP = "/usr/bin/bwrap";
const dir = realpathSync(mkdtempSync(join(tmpdir(), "tm-wrap-")));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function spec(mode: SandboxSpec["mode"], extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { mode, workspace: dir, writableRoots: [], networkAccess: false, ...extra };
}

/** The option pairs/triples before `--`, as strings for easy searching. */
function options(args: string[]): string {
  return args.slice(0, args.indexOf("--")).join(" ");
}

test("danger-full-access runs argv directly", () => {
  assert.deepEqual(wrapCommand(["echo", "hi"], spec("danger-full-access"), null, dir), { file: "echo", args: ["hi"] });
  assert.deepEqual(wrapCommand(["echo", "hi"], spec("danger-full-access"), BWRAP, dir), { file: "echo", args: ["hi"] });
});

test("sandboxed modes without bubblewrap throw SandboxUnavailableError", () => {
  for (const mode of ["read-only", "workspace-write"] as const) {
    assert.throws(
      () => wrapCommand(["echo"], spec(mode), null, dir),
      (err: unknown) =>
        err instanceof SandboxUnavailableError &&
        err.message === "sandbox unavailable: bubblewrap (bwrap) is not installed; refusing to run a sandboxed command",
    );
  }
});

test("workspace-write binds the workspace writable on top of a private /tmp", () => {
  const { file, args } = wrapCommand(["bash", "-lc", "ls"], spec("workspace-write"), BWRAP, dir);
  assert.equal(file, BWRAP);
  assert.deepEqual(args.slice(0, 9), ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]);
  assert.match(options(args), new RegExp(`--tmpfs /tmp --bind ${dir} ${dir}`));
  assert.match(options(args), /--unshare-net --unshare-pid --die-with-parent --new-session --chdir /);
  assert.deepEqual(args.slice(args.indexOf("--")), ["--", "bash", "-lc", "ls"]);
  assert.equal(args[args.indexOf("--chdir") + 1], dir);
});

test("writable roots are bound writable only in workspace-write", () => {
  const root = mkdtempSync(join(tmpdir(), "tm-wrap-root-"));
  try {
    const ww = options(wrapCommand(["true"], spec("workspace-write", { writableRoots: [root] }), BWRAP, dir).args);
    assert.ok(ww.includes(`--bind-try ${realpathSync(root)} ${realpathSync(root)}`));
    const ro = options(wrapCommand(["true"], spec("read-only", { writableRoots: [root] }), BWRAP, dir).args);
    assert.doesNotMatch(ro, /--bind(-try)? /);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("read-only binds nothing writable but keeps a workspace under /tmp reachable", () => {
  const opts = options(wrapCommand(["true"], spec("read-only"), BWRAP, dir).args);
  assert.doesNotMatch(opts, /--bind(-try)? /);
  assert.match(opts, new RegExp(`--tmpfs /tmp --ro-bind ${dir} ${dir}`));
});

test("a workspace outside /tmp is not bound again in read-only mode", () => {
  const opts = options(wrapCommand(["true"], spec("read-only", { workspace: "/srv/tm-not-there" }), BWRAP, "/srv/tm-not-there").args);
  assert.equal(opts.split("--ro-bind").length - 1, 1, "only the root view");
});

test("/tmp is not replaced when it is the workspace or lies inside it", () => {
  for (const workspace of ["/tmp", "/"]) {
    for (const mode of ["read-only", "workspace-write"] as const) {
      const opts = options(wrapCommand(["true"], spec(mode, { workspace }), BWRAP, workspace).args);
      assert.doesNotMatch(opts, /--tmpfs/, `${mode} ${workspace}`);
    }
  }
});

test("network access keeps the host network namespace", () => {
  const opts = options(wrapCommand(["true"], spec("read-only", { networkAccess: true }), BWRAP, dir).args);
  assert.doesNotMatch(opts, /--unshare-net/);
  assert.match(opts, /--unshare-pid/);
});

test("findBwrap returns an explicit executable path and rejects unusable ones", () => {
  const exe = join(dir, "bwrap");
  writeFileSync(exe, "#!/bin/sh\n");
  chmodSync(exe, 0o644);
  assert.equal(findBwrap(exe), null, "not executable");
  chmodSync(exe, 0o755);
  assert.equal(findBwrap(exe), exe);
  assert.equal(findBwrap(join(dir, "missing")), null);
  assert.equal(findBwrap(dir), null, "a directory is not an executable");
});

test("findBwrap searches PATH when no explicit path is given", () => {
  const bin = mkdtempSync(join(tmpdir(), "tm-wrap-bin-"));
  try {
    writeFileSync(join(bin, "bwrap"), "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(findBwrap(null, `/nonexistent-dir:${bin}`), join(bin, "bwrap"));
    assert.equal(findBwrap(undefined, "/nonexistent-dir"), null);
    assert.equal(findBwrap(null, ""), null);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
