import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { findBwrap } from "../src/sandbox/bwrap.ts";
import { DEFAULT_SANDBOX_MAX_PROCESSES } from "../src/sandbox/sandbox-limits.ts";
import { sandboxUserFor, type SandboxUser } from "../src/sandbox/sandbox-user.ts";
import { runCommand, type ExecResult } from "../src/tools/exec.ts";
import { ATTEMPTS_SCRIPT, digest, ESCAPE_MODES, EscapeFixture, parseAttempts, type EscapeMode } from "./sandbox-escape-fixture.ts";
import { EXPECTATIONS, judge } from "./sandbox-escape-expectations.ts";

// Real bubblewrap, real sockets, real processes. Without bubblewrap these tests skip locally; in CI they fail.
const bwrap = findBwrap();
const skip = bwrap === null && process.env["CI"] !== "true" ? "bubblewrap (bwrap) is not installed" : false;
const isRoot = process.getuid?.() === 0;
const python = existsSync("/usr/bin/python3");
const TENANT = "tenant-a";
/** The unprivileged uid the second run of the suite uses as its session host's uid (below the sandbox range). */
const UNPRIVILEGED_HOST: SandboxUser = { uid: 0x6ffe0001, gid: 0x6ffe0001 };

interface ModeRun {
  exitCode: number;
  output: string;
}

/**
 * The suite for one host identity: the attempts in every mode (run at once), then one test per attempt
 * and mode, and host-side checks. `run` executes the attempts and returns each mode's result.
 */
function escapeSuite(
  label: string,
  sandboxUid: () => number,
  setup: () => Promise<{ fixture: EscapeFixture; runs: Map<EscapeMode, ModeRun> }>,
  skipReason: string | false,
): void {
  describe(label, { skip: skipReason }, () => {
    let fixture: EscapeFixture;
    let runs: Map<EscapeMode, ModeRun>;
    before(async () => {
      ({ fixture, runs } = await setup());
    });
    after(async () => {
      await fixture?.close();
    });

    for (const mode of ESCAPE_MODES) {
      test(`${mode}: the attempts script ran to its end`, () => {
        const r = runs.get(mode)!;
        const parsed = parseAttempts(r.output);
        assert.ok(parsed.done, `script did not finish (exit ${r.exitCode}):\n${r.output}`);
        assert.equal(r.exitCode, 0, r.output);
      });
      for (const e of EXPECTATIONS) {
        if (e.modes && !e.modes.includes(mode)) continue;
        test(`${mode}: ${e.name} — ${e.tries} — fails`, () => {
          const a = parseAttempts(runs.get(mode)!.output).attempts.get(e.name);
          assert.ok(a?.begun, `attempt ${e.name} never began`);
          assert.ok(a.outcome !== null, `attempt ${e.name} began but never reported`);
          const why = judge(e, a.outcome, { mode, sandboxUid: sandboxUid() });
          assert.equal(why, null, `${e.name} in ${mode}: got "${a.outcome}"; ${why}`);
        });
      }
    }

    test("host: both sentinel processes survived every attempt", () => {
      for (const s of fixture.sentinels) {
        assert.equal(s.ended, null, `sentinel ${s.child.pid} ended: ${JSON.stringify(s.ended)}`);
        assert.doesNotThrow(() => process.kill(s.child.pid!, 0));
      }
    });

    test("host: no listener (TCP, pathname, in-workspace, abstract) accepted a connection", () => {
      assert.ok(fixture.tcp.server.listening);
      assert.equal(fixture.tcp.connections, 0);
      assert.deepEqual(
        fixture.unixListeners.map((l) => l.connections),
        fixture.unixListeners.map(() => 0),
      );
    });

    test("host: nothing the attempts created exists on the host and /etc/passwd is unchanged", () => {
      for (const p of fixture.markerPaths()) assert.equal(existsSync(p), false, p);
      assert.equal(digest("/etc/passwd"), fixture.passwdDigest);
      for (const mode of ESCAPE_MODES) {
        for (const name of ["tm-hardlink"]) assert.equal(existsSync(`${fixture.workspaces[mode]}/${name}`), false, `${mode} ${name}`);
      }
      assert.equal(existsSync(`${fixture.workspaces["read-only"]}/tm-written`), false);
      assert.equal(existsSync(`${fixture.workspaces["read-only"]}/tm-link-passwd`), false);
    });

    test("host: files written in a workspace belong to the sandbox user", () => {
      for (const mode of ["workspace-write", "workspace-write+network"] as const) {
        const file = `${fixture.workspaces[mode]}/tm-written`;
        assert.equal(readFileSync(file, "utf8"), "from the sandbox\n");
        assert.equal(statSync(file).uid, sandboxUid());
        assert.equal(lstatSync(`${fixture.workspaces[mode]}/tm-link-passwd`).isSymbolicLink(), true);
      }
    });
  });
}

function attemptsArgv(config: object): string[] {
  return ["/usr/bin/python3", "-c", ATTEMPTS_SCRIPT, JSON.stringify(config)];
}

/** The suite's host identity when this process is the host: root (CI) gives the tenant's uid. */
const hostSandboxUser = (): SandboxUser => (isRoot ? sandboxUserFor(TENANT) : { uid: process.getuid!(), gid: process.getgid!() });

escapeSuite(
  `escape attempts, host running as ${isRoot ? "root" : "an unprivileged user"}`,
  () => hostSandboxUser().uid,
  async () => {
    const fixture = await EscapeFixture.create(null, hostSandboxUser().uid);
    process.env[fixture.envSecretName] = fixture.envSecret;
    const runs = new Map<EscapeMode, ModeRun>();
    await Promise.all(
      ESCAPE_MODES.map(async (mode) => {
        const r = await runCommand({
          argv: attemptsArgv(fixture.config(mode)),
          cwd: fixture.workspaces[mode],
          timeoutMs: 60_000,
          outputCapBytes: 1 << 20,
          sandbox: fixture.spec(mode),
          bwrapPath: bwrap!,
          user: isRoot ? sandboxUserFor(TENANT) : null,
          workspaceRoot: fixture.root,
        });
        runs.set(mode, r);
      }),
    );
    return { fixture, runs };
  },
  skip || (python ? false : "python3 is needed for the attempts script"),
);

escapeSuite(
  "escape attempts, host running as an unprivileged user (setpriv)",
  () => UNPRIVILEGED_HOST.uid,
  async () => {
    const fixture = await EscapeFixture.create(UNPRIVILEGED_HOST, UNPRIVILEGED_HOST.uid);
    const input = {
      bwrapPath: bwrap!,
      runs: Object.fromEntries(ESCAPE_MODES.map((m) => [m, { spec: fixture.spec(m), config: fixture.config(m) }])),
    };
    const child = spawn(
      "/usr/bin/setpriv",
      [
        `--reuid=${UNPRIVILEGED_HOST.uid}`,
        `--regid=${UNPRIVILEGED_HOST.gid}`,
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        process.execPath,
        "--import",
        "tsx",
        fileURLToPath(new URL("./sandbox-escape-child.ts", import.meta.url)),
        JSON.stringify(input),
      ],
      {
        cwd: fileURLToPath(new URL("../../..", import.meta.url)),
        env: { PATH: "/usr/bin:/bin", HOME: "/tmp", [fixture.envSecretName]: fixture.envSecret },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, `unprivileged host failed: ${stderr}`);
    const results = JSON.parse(stdout) as Record<EscapeMode, ModeRun & { uid: number }>;
    const runs = new Map<EscapeMode, ModeRun>();
    for (const mode of ESCAPE_MODES) {
      assert.equal(results[mode].uid, UNPRIVILEGED_HOST.uid, "the child host really ran unprivileged");
      runs.set(mode, results[mode]);
    }
    return { fixture, runs };
  },
  skip || (!isRoot ? "needs root to start an unprivileged host with setpriv" : !python ? "python3 is needed for the attempts script" : false),
);

describe("resource exhaustion", { skip: skip || (!isRoot ? "a fork bomb under the host's own uid would starve the test runner" : false) }, () => {
  // The tenant's process limit counts every sandbox of its user at once, so one bomb holding it would keep
  // the next mode's sandbox from starting at all: the modes are bombed one after another.
  test("a fork bomb in every sandboxed mode stops at the tenant's process limit, the host keeps forking, and nothing survives the abort", async () => {
    const fixture = await EscapeFixture.create(null, sandboxUserFor("tenant-bomb").uid);
    const user = sandboxUserFor("tenant-bomb");
    const sentinels = new Set(fixture.sentinels.map((s) => s.child.pid));
    const survivors = () => processesOf(user.uid).filter((pid) => !sentinels.has(pid) && !killPending(pid));
    try {
      for (const mode of ESCAPE_MODES) {
        const controller = new AbortController();
        let text = "";
        let limitSeen!: () => void;
        const limitReached = new Promise<void>((resolve) => (limitSeen = resolve));
        const run = runCommand({
          argv: ["/bin/bash", "-c", "echo bomb-started; f() { f | f; }; f"],
          cwd: fixture.workspaces[mode],
          timeoutMs: 60_000,
          outputCapBytes: 1 << 16,
          sandbox: fixture.spec(mode),
          bwrapPath: bwrap!,
          user,
          workspaceRoot: fixture.root,
          signal: controller.signal,
          onOutput: (chunk) => {
            text += chunk;
            if (text.includes("bomb-started") && /Resource temporarily unavailable/.test(text)) limitSeen();
          },
        });
        // A bomb that ends before it meets the limit fails the test instead of leaving it waiting.
        const first = await Promise.race([limitReached.then(() => "limit" as const), run.then(() => "ended" as const)]);
        assert.equal(first, "limit", `${mode}: the bomb ended before reaching the process limit: ${text.slice(0, 500)}`);
        const running = processesOf(user.uid);
        assert.ok(running.length <= DEFAULT_SANDBOX_MAX_PROCESSES, `${mode}: ${running.length} processes of the tenant`);
        const host = spawnSync("/bin/true");
        assert.equal(host.status, 0, `${mode}: the host can still start processes`);
        controller.abort();
        const result = await run;
        assert.equal(result.aborted, true, mode);
        assert.match(result.output, /^bomb-started\n/, mode);
        // The PID namespace is torn down by the kernel, which SIGKILLs its processes one by one: a child
        // forked during the teardown can be listed for a moment before its SIGKILL is queued. Whatever
        // is still listed must hold a SIGKILL or be gone within 5 s (no event tells when the kernel is done).
        const until = Date.now() + 5_000;
        while (survivors().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(survivors(), [], mode);
        // The next mode starts once the tenant's processes are gone, not merely doomed.
        const gone = Date.now() + 10_000;
        while (processesOf(user.uid).some((pid) => !sentinels.has(pid)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await fixture.close();
    }
  });
});

/** Whether `pid` has SIGKILL pending (it is being torn down); false once it is gone. */
function killPending(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const SIGKILL_BIT = 1n << 8n;
    return ["SigPnd", "ShdPnd"].some((f) => (BigInt(`0x${new RegExp(`^${f}:\\s+([0-9a-f]+)`, "m").exec(status)?.[1] ?? "0"}`) & SIGKILL_BIT) !== 0n);
  } catch {
    return true;
  }
}

/** Live (not zombie, not exiting) processes whose real uid is `uid`. */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      if (realUid === uid && state !== "Z" && state !== "X") pids.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}
