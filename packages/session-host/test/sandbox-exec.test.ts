import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBwrap, SandboxUnavailableError } from "../src/sandbox/bwrap.ts";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";
import { runCommand, type ExecRequest } from "../src/tools/exec.ts";
import { liveProcessesWith } from "./live-processes.ts";

// Real bubblewrap. Without it these tests skip locally, but in CI (CI=true) they must fail, never skip.
const bwrap = findBwrap();
const skip = bwrap === null && process.env["CI"] !== "true" ? "bubblewrap (bwrap) is not installed" : false;
function requireBwrap(): string {
  assert.ok(bwrap, "bubblewrap (bwrap) must be installed when CI=true");
  return bwrap;
}

const ws = mkdtempSync(join(tmpdir(), "tm-sbx-ws-"));
const other = mkdtempSync(join(tmpdir(), "tm-sbx-other-"));
process.on("exit", () => {
  rmSync(ws, { recursive: true, force: true });
  rmSync(other, { recursive: true, force: true });
});

function spec(mode: SandboxSpec["mode"], extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { mode, workspace: ws, writableRoots: [], networkAccess: false, ...extra };
}

function run(argv: string[], sandbox: SandboxSpec, extra: Partial<ExecRequest> = {}) {
  // Workspaces under the temporary directory are handed to the sandbox user, as the host does under its workspace root.
  return runCommand({ argv, cwd: ws, timeoutMs: 30_000, outputCapBytes: 1 << 16, sandbox, bwrapPath: requireBwrap(), workspaceRoot: tmpdir(), ...extra });
}

function unique(name: string): string {
  return `${name}-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
}

test("workspace-write: writing inside the workspace succeeds", { skip }, async () => {
  const file = join(ws, unique("inside"));
  const result = await run(["bash", "-c", `echo hi > '${file}'`], spec("workspace-write"));
  assert.equal(result.exitCode, 0, result.output);
  assert.equal(readFileSync(file, "utf8"), "hi\n");
});

test("workspace-write: writing to /etc fails", { skip }, async () => {
  const file = `/etc/${unique("tm-probe")}`;
  const result = await run(["touch", file], spec("workspace-write"));
  assert.notEqual(result.exitCode, 0);
  assert.equal(existsSync(file), false);
});

test("workspace-write: writing to another temporary directory fails", { skip }, async () => {
  const file = join(other, unique("outside"));
  const result = await run(["touch", file], spec("workspace-write"));
  assert.notEqual(result.exitCode, 0);
  assert.equal(existsSync(file), false);
});

test("workspace-write: extra writable roots are writable", { skip }, async () => {
  const file = join(other, unique("root"));
  const result = await run(["touch", file], spec("workspace-write", { writableRoots: [other] }));
  assert.equal(result.exitCode, 0, result.output);
  assert.equal(existsSync(file), true);
});

test("workspace-write: /tmp inside the sandbox is private", { skip }, async () => {
  const file = `/tmp/${unique("tm-private")}`;
  const result = await run(["bash", "-c", `echo x > ${file} && cat ${file}`], spec("workspace-write"));
  assert.equal(result.exitCode, 0, result.output);
  assert.equal(result.output, "x\n");
  assert.equal(existsSync(file), false);
});

test("read-only: writing to the workspace fails but reading it works", { skip }, async () => {
  const existing = join(ws, unique("readable"));
  writeFileSync(existing, "content\n");
  const target = join(ws, unique("denied"));
  const denied = await run(["touch", target], spec("read-only"));
  assert.notEqual(denied.exitCode, 0);
  assert.equal(existsSync(target), false);
  const read = await run(["cat", existing], spec("read-only"));
  assert.equal(read.exitCode, 0, read.output);
  assert.equal(read.output, "content\n");
});

async function withServer(fn: (port: number) => Promise<void>): Promise<void> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test("without network access a TCP connect to a local server fails", { skip }, async () => {
  await withServer(async (port) => {
    const result = await run(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`], spec("read-only"));
    assert.notEqual(result.exitCode, 0);
    assert.doesNotMatch(result.output, /connected/);
  });
});

test("with network access a TCP connect to a local server succeeds", { skip }, async () => {
  await withServer(async (port) => {
    const result = await run(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`], spec("read-only", { networkAccess: true }));
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(result.output, "connected\n");
  });
});

test("sandboxed commands see CODEX_SANDBOX_NETWORK_DISABLED when the network is off", { skip }, async () => {
  const result = await run(["bash", "-c", 'echo "${CODEX_SANDBOX_NETWORK_DISABLED-unset}"'], spec("read-only"));
  assert.equal(result.output, "1\n");
});

test("aborting a sandboxed command kills everything it started", { skip }, async () => {
  const marker = `3600.${process.pid}${Math.floor(Math.random() * 1e9)}`;
  const controller = new AbortController();
  const result = await run(["bash", "-c", `sleep ${marker} & echo started; wait`], spec("workspace-write"), {
    signal: controller.signal,
    onOutput: (chunk) => {
      if (chunk.includes("started")) controller.abort();
    },
  });
  assert.equal(result.aborted, true);
  assert.equal(result.exitCode, 130);
  assert.deepEqual(liveProcessesWith(marker), []);
});

test("a sandboxed timeout reports 124", { skip }, async () => {
  const result = await run(["bash", "-c", "sleep 3600 & wait"], spec("read-only"), { timeoutMs: 500 });
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
});

test("a missing program inside the sandbox reports 127", { skip }, async () => {
  const result = await run(["tm-definitely-not-a-command"], spec("read-only"));
  assert.equal(result.exitCode, 127);
});

test("without bubblewrap sandboxed modes refuse to run and full access still runs", async () => {
  const file = join(ws, unique("never"));
  for (const mode of ["read-only", "workspace-write"] as const) {
    await assert.rejects(
      runCommand({ argv: ["touch", file], cwd: ws, timeoutMs: 5_000, outputCapBytes: 1024, sandbox: spec(mode), bwrapPath: null }),
      (err: unknown) =>
        err instanceof SandboxUnavailableError &&
        err.message === "sandbox unavailable: bubblewrap (bwrap) is not installed; refusing to run a sandboxed command",
    );
  }
  assert.equal(existsSync(file), false);
  const full = await runCommand({
    argv: ["bash", "-c", "echo ran"],
    cwd: ws,
    timeoutMs: 5_000,
    outputCapBytes: 1024,
    sandbox: spec("danger-full-access"),
    bwrapPath: null,
  });
  assert.equal(full.exitCode, 0);
  assert.equal(full.output, "ran\n");
});
