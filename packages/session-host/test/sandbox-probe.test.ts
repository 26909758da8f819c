import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBwrap, SandboxUnavailableError } from "../src/sandbox/bwrap.ts";
import { probeSandbox } from "../src/sandbox/sandbox-probe.ts";
import { runCommand } from "../src/tools/exec.ts";

const bwrap = findBwrap();
const skip = bwrap === null && process.env["CI"] !== "true" ? "bubblewrap (bwrap) is not installed" : false;
const dir = mkdtempSync(join(tmpdir(), "tm-probe-"));
chmodSync(dir, 0o755);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for bwrap: `body` is the shell script's text after the shebang. */
function fakeBwrap(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

test("the real bubblewrap passes the probe", { skip }, async () => {
  await probeSandbox(bwrap!);
});

test("a bwrap that runs commands without confinement fails the probe and the command never runs", async () => {
  // Skips its options up to the command's `--` and runs the command as is: no namespaces, no seccomp.
  const fake = fakeBwrap("bwrap-unconfined", 'while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done; shift; exec "$@"');
  const marker = join(dir, "ran-unconfined");
  await assert.rejects(
    runCommand({
      argv: ["/bin/sh", "-c", `touch ${marker}`],
      cwd: dir,
      timeoutMs: 10_000,
      outputCapBytes: 4096,
      sandbox: { mode: "workspace-write", workspace: dir, writableRoots: [], networkAccess: false },
      bwrapPath: fake,
    }),
    (err: unknown) => err instanceof SandboxUnavailableError && /no_new_privs is not set|seccomp filter is not installed|ran as uid 0|kept capabilities/.test(err.message),
  );
  assert.equal(existsSync(marker), false);
});

test("a bwrap that cannot create a sandbox (no user namespaces) is refused with its own message", async () => {
  const fake = fakeBwrap("bwrap-no-userns", 'echo "bwrap: No permissions to create new namespace" >&2; exit 1');
  await assert.rejects(probeSandbox(fake), (err: unknown) => err instanceof SandboxUnavailableError && /exit 1\): bwrap: No permissions to create new namespace/.test(err.message));
  // The outcome is kept: a second call fails the same way without running bwrap again.
  await assert.rejects(probeSandbox(fake), SandboxUnavailableError);
});
