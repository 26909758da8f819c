import type { ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { performance } from "node:perf_hooks";
import { wrapCommand, type WrappedCommand } from "../sandbox/bwrap.ts";
import { probeSandbox } from "../sandbox/sandbox-probe.ts";
import type { SandboxLimits } from "../sandbox/sandbox-limits.ts";
import { canonicalPath, type SandboxSpec } from "../sandbox/sandbox-spec.ts";
import { sandboxUser, type SandboxUser } from "../sandbox/sandbox-user.ts";
import { spawnWrapped } from "../sandbox/spawn-wrapped.ts";
import { adoptWorkspace, forgetAdoptions } from "../sandbox/workspace-owner.ts";
import { withoutLoginProfile } from "./login-shell.ts";

/** One command to run for a tool call. */
export interface ExecRequest {
  /** Program and arguments, passed to execvp (no shell unless argv names one). Must not be empty. */
  argv: string[];
  /** Absolute working directory. */
  cwd: string;
  /**
   * The operator's command environment. Sandboxed commands get it plus `HOME`/`TMPDIR` of the sandbox,
   * or a minimal default; unsandboxed ones get it as is, or the secret-free part of the host's. Never
   * the host's whole environment.
   */
  env?: Record<string, string> | undefined;
  /** Wall-clock limit in milliseconds; on expiry the whole process tree is killed and `exitCode` is 124. */
  timeoutMs: number;
  /** Most bytes of output kept (stdout and stderr together); the rest is read and discarded. */
  outputCapBytes: number;
  /** Confinement for the command. */
  sandbox: SandboxSpec;
  /** bubblewrap executable from `findBwrap`; null makes sandboxed modes fail with `SandboxUnavailableError`. */
  bwrapPath: string | null;
  /**
   * Host user of the sandbox when the host is root: the tenant's (`sandboxUser(tenant)`). Undefined
   * derives one from the workspace path; ignored in `danger-full-access`.
   */
  user?: SandboxUser | null;
  /**
   * Directory holding all workspaces. When the host is root, the workspace and writable roots inside it
   * are handed to the sandbox user before the command runs (see `adoptWorkspace`); paths outside are
   * never re-owned. Undefined re-owns nothing.
   */
  workspaceRoot?: string;
  /** Resource limits of sandboxed commands. Default `DEFAULT_SANDBOX_LIMITS`. */
  limits?: SandboxLimits;
  /** Aborting kills the whole process tree; the result then has `aborted: true` and `exitCode` 130. */
  signal?: AbortSignal;
  /** Called with each decoded chunk as it arrives, until the cap is reached. Exceptions it throws are ignored. */
  onOutput?: (chunk: string) => void;
}

/** How a command ended. */
export interface ExecResult {
  /** The process exit code; 124 on timeout, 130 on abort, 128+N when killed by signal N, 127 when it could not start. */
  exitCode: number;
  /** stdout and stderr interleaved in arrival order, decoded as UTF-8, at most `outputCapBytes` bytes. */
  output: string;
  /** Milliseconds from spawn to exit. */
  durationMs: number;
  timedOut: boolean;
  /** True when output beyond `outputCapBytes` was discarded. */
  truncated: boolean;
  aborted: boolean;
  /** Host PID of the spawned process (bubblewrap's when sandboxed); null when it never started. */
  pid: number | null;
}

/** Exit code reported when the timeout killed the command (as `timeout(1)` does). */
export const EXIT_CODE_TIMEOUT = 124;
/** Exit code reported when the command could not be started (as a shell does for a missing program). */
export const EXIT_CODE_NOT_FOUND = 127;
/** Exit code reported when the caller aborted the command (128 + SIGINT, as after Ctrl-C). */
export const EXIT_CODE_ABORTED = 130;

/**
 * After the process exits, how long to keep reading pipes that a leftover background process may
 * still hold open before giving up on them. Bounds the wait, not the output.
 */
const DRAIN_AFTER_EXIT_MS = 2_000;

/** bubblewrap's own message when the sandboxed program does not exist; reported as 127 like an unsandboxed ENOENT. */
const BWRAP_EXEC_ENOENT = /^bwrap: execvp [^\n]*: No such file or directory\n?$/;

/**
 * Runs one command to completion in its own process group, streaming output through `onOutput`.
 * Never rejects for process failures (they become exit codes and an explanatory output); rejects only
 * with `SandboxUnavailableError` when a sandboxed mode cannot be provided (no bubblewrap, the start-up
 * probe failed, a spec exposing `/`). stdin is /dev/null.
 */
export async function runCommand(req: ExecRequest): Promise<ExecResult> {
  if (req.argv.length === 0) return notStarted("cannot run an empty command");
  const sandboxed = req.sandbox.mode !== "danger-full-access";
  const user = sandboxed ? (req.user === undefined ? sandboxUser(canonicalPath(req.sandbox.workspace)) : req.user) : null;
  const wrapped: WrappedCommand = wrapCommand(withoutLoginProfile(req.argv), req.sandbox, req.bwrapPath, req.cwd, {
    user,
    env: req.env,
    ...(req.limits ? { limits: req.limits } : {}),
  });
  if (sandboxed) {
    await probeSandbox(req.bwrapPath!);
    if (user && req.workspaceRoot !== undefined) {
      const roots = req.sandbox.mode === "workspace-write" ? [req.sandbox.workspace, ...req.sandbox.writableRoots] : [req.sandbox.workspace];
      for (const root of roots) await adoptWorkspace(root, user, req.workspaceRoot);
    }
  }
  if (req.signal?.aborted) {
    return { exitCode: EXIT_CODE_ABORTED, output: "", durationMs: 0, timedOut: false, truncated: false, aborted: true, pid: null };
  }

  let child: ChildProcess;
  const startedAt = performance.now();
  try {
    child = spawnWrapped(wrapped, req.cwd);
  } catch (err) {
    return notStarted(`failed to start ${req.argv[0]}: ${(err as Error).message}`);
  }
  const result = await collect(child, req, startedAt, sandboxed);
  // A command that ran as the host may have left host-owned files a sandbox user could not change.
  if (!sandboxed && process.getuid?.() === 0) forgetAdoptions(req.sandbox.workspace);
  return result;
}

function collect(child: ChildProcess, req: ExecRequest, startedAt: number, sandboxed: boolean): Promise<ExecResult> {
  return new Promise((resolve) => {
    const output = new CappedOutput(req.outputCapBytes, req.onOutput);
    let timedOut = false;
    let aborted = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null; durationMs: number } | null = null;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const killTree = () => {
      const pid = child.pid;
      if (pid === undefined) return;
      // detached: true made the child a process-group leader; a negative pid signals the whole group.
      // Sandboxed commands run in bwrap's PID namespace, which dies with bwrap (--die-with-parent, PID 1 exit).
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
    };

    const timer = setTimeout(() => {
      if (exited) return;
      timedOut = true;
      killTree();
    }, Math.max(0, req.timeoutMs));
    const onAbort = () => {
      if (exited || timedOut) return;
      aborted = true;
      killTree();
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (result: ExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      req.signal?.removeEventListener("abort", onAbort);
      resolve(result);
    };

    child.stdout!.on("data", (chunk: Buffer) => output.push("stdout", chunk));
    child.stderr!.on("data", (chunk: Buffer) => output.push("stderr", chunk));

    child.on("error", (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // Errors after a successful spawn (e.g. a failed kill) do not end the run.
      finish(notStartedResult(spawnFailureMessage(err, req, sandboxed), performance.now() - startedAt));
    });

    child.on("exit", (code, signal) => {
      exited = { code, signal, durationMs: performance.now() - startedAt };
      clearTimeout(timer);
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        done();
      }, DRAIN_AFTER_EXIT_MS);
    });

    const done = () => {
      if (!exited) return;
      const text = output.finish();
      let exitCode: number;
      if (timedOut) exitCode = EXIT_CODE_TIMEOUT;
      else if (aborted) exitCode = EXIT_CODE_ABORTED;
      else if (exited.code !== null) exitCode = exited.code;
      else exitCode = 128 + (exited.signal ? (osConstants.signals[exited.signal] ?? 0) : 0);
      if (sandboxed && exitCode === 1 && BWRAP_EXEC_ENOENT.test(text)) exitCode = EXIT_CODE_NOT_FOUND;
      finish({
        exitCode,
        output: text,
        durationMs: Math.round(exited.durationMs),
        timedOut,
        truncated: output.truncated,
        aborted,
        pid: child.pid ?? null,
      });
    };
    child.on("close", done);
  });
}

/**
 * Keeps at most `capBytes` of output. Each stream has its own streaming decoder so a multi-byte
 * character split across chunks is decoded whole, whatever arrives on the other stream in between.
 */
class CappedOutput {
  private readonly parts: string[] = [];
  private bytes = 0;
  truncated = false;
  private readonly decoders = { stdout: new TextDecoder("utf-8"), stderr: new TextDecoder("utf-8") };

  constructor(
    private readonly capBytes: number,
    private readonly onOutput: ((chunk: string) => void) | undefined,
  ) {}

  push(stream: "stdout" | "stderr", chunk: Buffer): void {
    if (this.truncated) return; // Keep draining so the writer is not blocked or killed by SIGPIPE.
    const room = Math.max(0, this.capBytes - this.bytes);
    let accepted = chunk;
    if (chunk.length > room) {
      accepted = chunk.subarray(0, room);
      this.truncated = true;
    }
    this.bytes += accepted.length;
    // On truncation the decoder keeps any partial character at the cut; it is dropped, never emitted half.
    this.emit(this.decoders[stream].decode(accepted, { stream: true }));
  }

  finish(): string {
    if (!this.truncated) {
      this.emit(this.decoders.stdout.decode());
      this.emit(this.decoders.stderr.decode());
    }
    return this.parts.join("");
  }

  private emit(text: string): void {
    if (text.length === 0) return;
    this.parts.push(text);
    if (!this.onOutput) return;
    try {
      this.onOutput(text);
    } catch {
      // A failing listener must not stop the drain or crash the host.
    }
  }
}

function spawnFailureMessage(err: NodeJS.ErrnoException, req: ExecRequest, sandboxed: boolean): string {
  if (err.code === "ENOENT") {
    let cwdOk = false;
    try {
      cwdOk = statSync(req.cwd).isDirectory();
    } catch {
      cwdOk = false;
    }
    if (!cwdOk) return `failed to start ${req.argv[0]}: working directory does not exist: ${req.cwd}\n`;
    if (sandboxed) return `sandbox unavailable: bubblewrap not found at ${req.bwrapPath}; refusing to run a sandboxed command\n`;
    return `failed to start ${req.argv[0]}: command not found\n`;
  }
  if (err.code === "EACCES") return `failed to start ${req.argv[0]}: permission denied\n`;
  return `failed to start ${req.argv[0]}: ${err.message}\n`;
}

function notStarted(message: string): ExecResult {
  return notStartedResult(message.endsWith("\n") ? message : `${message}\n`, 0);
}

function notStartedResult(output: string, durationMs: number): ExecResult {
  return {
    exitCode: EXIT_CODE_NOT_FOUND,
    output,
    durationMs: Math.round(durationMs),
    timedOut: false,
    truncated: false,
    aborted: false,
    pid: null,
  };
}
