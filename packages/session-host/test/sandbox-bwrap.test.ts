import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, lstatSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBwrap, SandboxSpecError, SandboxUnavailableError, wrapCommand } from "../src/sandbox/bwrap.ts";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";

const BWRAP = "/usr/bin/bwrap";
const dir = realpathSync(mkdtempSync(join(tmpdir(), "tm-wrap-")));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function spec(mode: SandboxSpec["mode"], extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { mode, workspace: dir, writableRoots: [], networkAccess: false, ...extra };
}

const USER = { uid: 0x70000123, gid: 0x70000123 };

/** bubblewrap's own options (between prlimit's `--` and the command's `--`), joined for searching. */
function options(args: string[]): string {
  const bw = args.slice(args.indexOf(BWRAP) + 1);
  return bw.slice(0, bw.lastIndexOf("--")).join(" ");
}

function wrap(mode: SandboxSpec["mode"], extra: Partial<SandboxSpec> = {}, cwd = dir) {
  return wrapCommand(["bash", "-lc", "ls"], spec(mode, extra), BWRAP, cwd, { user: USER });
}

test("danger-full-access runs argv directly as the host, without the host's secrets", () => {
  const full = wrapCommand(["echo", "hi"], spec("danger-full-access"), null, dir, { env: { A: "1" } });
  assert.deepEqual([full.file, full.args, full.user, full.seccomp, full.env], ["echo", ["hi"], null, null, { A: "1" }]);
  const inherited = wrapCommand(["echo"], spec("danger-full-access"), BWRAP, dir).env;
  for (const name of Object.keys(inherited)) assert.ok(["PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "USER", "LOGNAME", "SHELL"].includes(name), name);
});

test("sandboxed modes without bubblewrap throw SandboxUnavailableError", () => {
  for (const mode of ["read-only", "workspace-write"] as const) {
    assert.throws(
      () => wrapCommand(["echo"], spec(mode), null, dir, { user: USER }),
      (err: unknown) =>
        err instanceof SandboxUnavailableError &&
        err.message === "sandbox unavailable: bubblewrap (bwrap) is not installed; refusing to run a sandboxed command",
    );
  }
});

test("a root host never starts a sandbox as root", () => {
  assert.throws(() => wrapCommand(["true"], spec("read-only"), BWRAP, dir, { user: { uid: 0, gid: 0 } }), SandboxUnavailableError);
  assert.throws(() => wrapCommand(["true"], spec("read-only"), BWRAP, dir, { user: { uid: 1000, gid: 0 } }), SandboxUnavailableError);
  if (process.getuid?.() === 0) assert.throws(() => wrapCommand(["true"], spec("read-only"), BWRAP, dir), /no unprivileged sandbox user/);
});

test("prlimit sets the limits, then bubblewrap runs as the sandbox user with every namespace and no capabilities", () => {
  const cmd = wrap("workspace-write");
  assert.equal(cmd.file, "/usr/bin/prlimit");
  assert.deepEqual(cmd.user, USER);
  assert.deepEqual(cmd.env, { PATH: "/usr/bin:/bin" });
  assert.ok(cmd.seccomp && cmd.seccomp.length % 8 === 0);
  assert.deepEqual(cmd.args.slice(0, cmd.args.indexOf("--")), ["--nproc=1024", "--data=4294967296", "--fsize=4294967296", "--nofile=4096", "--core=0"]);
  assert.match(
    options(cmd.args),
    /^--unshare-user --disable-userns --cap-drop ALL --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try --unshare-net --hostname sandbox --new-session --die-with-parent --clearenv /,
  );
  assert.match(options(cmd.args), / --seccomp 3$/);
  assert.deepEqual(cmd.args.slice(cmd.args.lastIndexOf("--")), ["--", "bash", "-lc", "ls"]);
});

test("the environment is cleared and only the allow-listed one is set", () => {
  const cmd = wrapCommand(["env"], spec("read-only"), BWRAP, dir, { user: USER, env: { PATH: "/usr/bin", HOME: "/root", FOO: "bar" } });
  const opts = options(cmd.args);
  assert.match(opts, /--setenv PATH \/usr\/bin /);
  assert.match(opts, /--setenv HOME \/tmp /);
  assert.match(opts, /--setenv FOO bar /);
  assert.match(opts, /--setenv CODEX_SANDBOX_NETWORK_DISABLED 1 /);
  assert.doesNotMatch(opts, /\/root/);
});

test("the view starts from an empty root and adds /usr, its aliases, selected /etc files, /proc, /dev and a private /tmp", () => {
  const opts = options(wrap("read-only").args);
  assert.match(opts, /--tmpfs \/ --ro-bind \/usr \/usr /);
  if (lstatSync("/bin").isSymbolicLink()) assert.match(opts, /--symlink usr\/bin \/bin /);
  assert.match(opts, /--ro-bind-try \/etc\/passwd \/etc\/passwd /);
  assert.doesNotMatch(opts, /shadow|\/root|\/home|\/run|--ro-bind \/ \//);
  assert.match(opts, /--proc \/proc --dev \/dev --size \d+ --tmpfs \/dev\/shm --remount-ro \/dev --size \d+ --tmpfs \/tmp /);
  assert.match(opts, /--remount-ro \/ --chdir /);
});

test("workspace-write binds the workspace writable after the private /tmp", () => {
  const opts = options(wrap("workspace-write").args);
  assert.match(opts, new RegExp(`--tmpfs /tmp .*--bind ${dir} ${dir} --remount-ro / --chdir ${dir}`));
});

test("writable roots are bound writable only in workspace-write", () => {
  const root = mkdtempSync(join(tmpdir(), "tm-wrap-root-"));
  try {
    const ww = options(wrap("workspace-write", { writableRoots: [root] }).args);
    assert.ok(ww.includes(`--bind-try ${realpathSync(root)} ${realpathSync(root)}`));
    const ro = options(wrap("read-only", { writableRoots: [root] }).args);
    assert.doesNotMatch(ro, /--bind(-try)? /);
    assert.ok(!ro.includes(realpathSync(root)), "not even visible");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("read-only binds the workspace read-only and nothing writable", () => {
  const opts = options(wrap("read-only").args);
  assert.doesNotMatch(opts, /--bind(-try)? /);
  assert.match(opts, new RegExp(`--ro-bind ${dir} ${dir}`));
});

test("a workspace or writable root of / is refused", () => {
  for (const mode of ["read-only", "workspace-write"] as const) {
    assert.throws(() => wrap(mode, { workspace: "/" }, "/"), SandboxSpecError);
  }
  assert.throws(() => wrap("workspace-write", { writableRoots: ["/"] }), SandboxSpecError);
});

test("network access keeps the host network namespace and every other namespace", () => {
  const opts = options(wrap("read-only", { networkAccess: true }).args);
  assert.doesNotMatch(opts, /--unshare-net|CODEX_SANDBOX_NETWORK_DISABLED/);
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
