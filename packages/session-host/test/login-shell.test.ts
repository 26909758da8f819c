import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../src/tools/exec.ts";
import { withoutLoginProfile } from "../src/tools/login-shell.ts";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";

const dir = mkdtempSync(join(tmpdir(), "tm-login-shell-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

// A home whose login profiles are noisy, as a version manager's shims make them.
const noisyHome = join(dir, "home");
execFileSync("mkdir", ["-p", noisyHome]);
for (const f of [".bash_profile", ".profile", ".bash_login"]) {
  writeFileSync(join(noisyHome, f), 'echo "PROFILE NOISE on stdout"\necho "PROFILE NOISE on stderr" >&2\nexport FROM_PROFILE=yes\n');
}
const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: noisyHome, LANG: "C.UTF-8" };
const FULL: SandboxSpec = { mode: "danger-full-access", workspace: dir, writableRoots: [], networkAccess: true };

test("withoutLoginProfile drops the login flag of a shell's -c invocation and leaves anything else alone", () => {
  assert.deepEqual(withoutLoginProfile(["bash", "-lc", "ls -la"]), ["bash", "-c", "ls -la"]);
  assert.deepEqual(withoutLoginProfile(["/bin/bash", "-lc", "echo hi"]), ["/bin/bash", "-c", "echo hi"]);
  assert.deepEqual(withoutLoginProfile(["zsh", "-cl", "echo hi"]), ["zsh", "-c", "echo hi"]);
  assert.deepEqual(withoutLoginProfile(["sh", "-l", "-c", "echo hi"]), ["sh", "-c", "echo hi"]);
  assert.deepEqual(withoutLoginProfile(["bash", "--login", "-c", "echo hi"]), ["bash", "-c", "echo hi"]);
  assert.deepEqual(withoutLoginProfile(["bash", "-c", "echo hi"]), ["bash", "-c", "echo hi"]);
  assert.deepEqual(withoutLoginProfile(["ls", "-lc", "x"]), ["ls", "-lc", "x"]);
  assert.deepEqual(withoutLoginProfile(["bash"]), ["bash"]);
  assert.deepEqual(withoutLoginProfile(["rg", "-l", "-c", "x"]), ["rg", "-l", "-c", "x"]);
});

test("the profile fixture is noisy for a real login shell", () => {
  const out = execFileSync("bash", ["-lc", "echo out"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  assert.match(out, /PROFILE NOISE on stdout/);
});

test("`bash -lc` as models send it runs without the login profile: the output is the command's alone", async () => {
  const result = await runCommand({
    argv: ["bash", "-lc", 'echo out; echo "from profile: ${FROM_PROFILE:-no}"'],
    cwd: dir,
    env,
    timeoutMs: 30_000,
    outputCapBytes: 1 << 16,
    sandbox: FULL,
    bwrapPath: null,
  });
  assert.equal(result.exitCode, 0, result.output);
  assert.equal(result.output, "out\nfrom profile: no\n");
});
