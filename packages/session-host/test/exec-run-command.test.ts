import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, type ExecRequest } from "../src/tools/exec.ts";
import { liveProcessesWith } from "./live-processes.ts";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";

const dir = mkdtempSync(join(tmpdir(), "tm-exec-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const FULL: SandboxSpec = { mode: "danger-full-access", workspace: dir, writableRoots: [], networkAccess: true };

function req(argv: string[], extra: Partial<ExecRequest> = {}): ExecRequest {
  return { argv, cwd: dir, timeoutMs: 30_000, outputCapBytes: 1 << 20, sandbox: FULL, bwrapPath: null, ...extra };
}

function uniqueSleep(): { marker: string; seconds: string } {
  const marker = `3600.${process.pid}${Math.floor(Math.random() * 1e9)}`;
  return { marker, seconds: marker };
}

test("output streams to onOutput while the command is still running", async () => {
  const fifo = join(dir, "gate");
  execFileSync("mkfifo", [fifo]);
  const chunks: string[] = [];
  let released = false;
  const result = await runCommand(
    req(["bash", "-c", `echo first; read x < ${fifo}; echo "second $x"`], {
      onOutput: (chunk) => {
        chunks.push(chunk);
        if (!released && chunks.join("").includes("first")) {
          released = true;
          // The command cannot finish until this write, so seeing "first" here proves streaming.
          void open(fifo, "w").then(async (h) => {
            await h.write("go\n");
            await h.close();
          });
        }
      },
    }),
  );
  assert.equal(result.exitCode, 0);
  assert.equal(result.output, "first\nsecond go\n");
  assert.equal(chunks.join(""), result.output);
  assert.equal(result.timedOut, false);
  assert.equal(result.aborted, false);
  assert.equal(result.truncated, false);
  assert.equal(typeof result.pid, "number");
  assert.ok(result.durationMs >= 0);
});

test("stdout and stderr are both captured", async () => {
  const result = await runCommand(req(["bash", "-c", "echo out; echo err >&2"]));
  assert.equal(result.exitCode, 0);
  assert.match(result.output, /out\n/);
  assert.match(result.output, /err\n/);
  assert.equal(result.output.length, "out\nerr\n".length);
});

test("the exit code of the command is reported", async () => {
  assert.equal((await runCommand(req(["bash", "-c", "exit 3"]))).exitCode, 3);
  assert.equal((await runCommand(req(["true"]))).exitCode, 0);
});

test("a command killed by a signal reports 128 plus the signal number", async () => {
  const result = await runCommand(req(["bash", "-c", "kill -TERM $$"]));
  assert.equal(result.exitCode, 143);
  assert.equal(result.timedOut, false);
});

test("stdin is /dev/null", async () => {
  const result = await runCommand(req(["cat"]));
  assert.equal(result.exitCode, 0);
  assert.equal(result.output, "");
});

test("env replaces the environment of the child", async () => {
  const result = await runCommand(req(["/bin/bash", "-c", 'echo "$TM_PROBE|${HOME-unset}"'], { env: { TM_PROBE: "yes" } }));
  assert.equal(result.output, "yes|unset\n");
});

test("a timeout kills the whole process tree and reports 124", async () => {
  const { marker, seconds } = uniqueSleep();
  const result = await runCommand(req(["bash", "-c", `sleep ${seconds} & echo started; wait`], { timeoutMs: 1_000 }));
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
  assert.equal(result.aborted, false);
  assert.deepEqual(liveProcessesWith(marker), []);
});

test("aborting kills the whole process tree and reports 130", async () => {
  const { marker, seconds } = uniqueSleep();
  const controller = new AbortController();
  const result = await runCommand(
    req(["bash", "-c", `sleep ${seconds} & echo started; wait`], {
      signal: controller.signal,
      onOutput: (chunk) => {
        if (chunk.includes("started")) controller.abort();
      },
    }),
  );
  assert.equal(result.aborted, true);
  assert.equal(result.timedOut, false);
  assert.equal(result.exitCode, 130);
  assert.match(result.output, /started/);
  assert.deepEqual(liveProcessesWith(marker), []);
});

test("an already aborted signal does not start the command", async () => {
  const controller = new AbortController();
  controller.abort();
  const result = await runCommand(req(["bash", "-c", `touch ${join(dir, "never")}`], { signal: controller.signal }));
  assert.equal(result.aborted, true);
  assert.equal(result.exitCode, 130);
  assert.equal(result.pid, null);
  assert.throws(() => readFileSync(join(dir, "never")));
});

test("output beyond the cap is discarded but drained, and onOutput stops at the cap", async () => {
  const seen: string[] = [];
  const result = await runCommand(
    req(["bash", "-c", "head -c 300000 /dev/zero | tr '\\0' a; echo done >&2"], { outputCapBytes: 1000, onOutput: (c) => seen.push(c) }),
  );
  assert.equal(result.exitCode, 0, "the writer finished: output kept being drained after the cap");
  assert.equal(result.truncated, true);
  assert.equal(result.output, "a".repeat(1000));
  assert.equal(seen.join(""), result.output);
});

test("the cap never splits a multi-byte character", async () => {
  const result = await runCommand(req(["printf", "ééé"], { outputCapBytes: 5 }));
  assert.equal(result.output, "éé");
  assert.equal(result.truncated, true);
});

test("multi-byte characters written in pieces are decoded whole", async () => {
  const result = await runCommand(req(["bash", "-c", "printf '\\xc3'; printf '\\xa9'; printf '\\xe2\\x82'; printf '\\xac\\n'"]));
  assert.equal(result.output, "é€\n");
});

test("a missing program reports 127 with an explanation instead of throwing", async () => {
  const result = await runCommand(req(["tm-definitely-not-a-command"]));
  assert.equal(result.exitCode, 127);
  assert.equal(result.pid, null);
  assert.match(result.output, /tm-definitely-not-a-command: command not found/);
});

test("a missing working directory reports 127 naming the directory", async () => {
  const missing = join(dir, "no-such-dir");
  const result = await runCommand(req(["ls"], { cwd: missing }));
  assert.equal(result.exitCode, 127);
  assert.match(result.output, /working directory does not exist/);
  assert.ok(result.output.includes(missing));
});

test("an empty argv reports 127", async () => {
  const result = await runCommand(req([]));
  assert.equal(result.exitCode, 127);
  assert.match(result.output, /empty command/);
});
