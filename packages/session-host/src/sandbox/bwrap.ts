import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { filesystemViewArgs } from "./filesystem-view.ts";
import { SandboxUnavailableError } from "./sandbox-errors.ts";
import { fullAccessEnvironment, sandboxEnvironment } from "./sandbox-env.ts";
import { DEFAULT_SANDBOX_LIMITS, prlimitArgs, type SandboxLimits } from "./sandbox-limits.ts";
import type { SandboxSpec } from "./sandbox-spec.ts";
import type { SandboxUser } from "./sandbox-user.ts";
import { sandboxSeccompFilter } from "./seccomp-filter.ts";

export { SandboxSpecError, SandboxUnavailableError } from "./sandbox-errors.ts";

/**
 * Locates an executable `bwrap`: `explicitPath` when given (and executable), otherwise the first hit on
 * `pathEnv` (default: this process's `PATH`). Returns null when none is usable.
 */
export function findBwrap(explicitPath?: string | null, pathEnv: string | undefined = process.env["PATH"]): string | null {
  if (explicitPath) return isExecutableFile(explicitPath) ? resolve(explicitPath) : null;
  return findOnPath("bwrap", pathEnv);
}

/** util-linux `prlimit`, which sets the sandbox's resource limits; searched in the system directories only. */
export function findPrlimit(): string | null {
  return findOnPath("prlimit", "/usr/bin:/bin");
}

function findOnPath(name: string, pathEnv: string | undefined): string | null {
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Descriptor number on which bubblewrap reads the seccomp program (the spawn's fourth stdio entry). */
export const SECCOMP_FD = 3;

/** How to start one command. */
export interface WrappedCommand {
  file: string;
  args: string[];
  /** Environment of the spawned process itself (bubblewrap clears it and sets the command's own). */
  env: Record<string, string>;
  /** Host user to spawn as; null keeps the host's uid. */
  user: SandboxUser | null;
  /** Seccomp program to write to descriptor {@link SECCOMP_FD}; null when unsandboxed. */
  seccomp: Buffer | null;
}

/** Options of {@link wrapCommand}. */
export interface WrapOptions {
  /** Host user the sandbox runs as; required when the host is root (see `sandboxUser`). Default null. */
  user?: SandboxUser | null;
  /** The operator's command environment; undefined gives the default. */
  env?: Record<string, string> | undefined;
  /** Default {@link DEFAULT_SANDBOX_LIMITS}. */
  limits?: SandboxLimits;
  /** `prlimit` executable. Default {@link findPrlimit}. */
  prlimitPath?: string | null;
}

/**
 * The program, arguments and identity that run `argv` in `cwd` under `spec`.
 *
 * `danger-full-access` runs `argv` directly as the host. Otherwise `prlimit` sets resource limits and
 * executes bubblewrap as the sandbox user (an unprivileged uid, so bubblewrap creates a user namespace with
 * that uid mapped and no capabilities anywhere), which adds: capabilities dropped, no nested user
 * namespaces, its own PID, IPC, UTS and cgroup namespaces, no network unless allowed, a new session (no
 * terminal injection), death with its parent, the allow-listed environment, the filesystem view of
 * `filesystemViewArgs`, and the seccomp filter (bubblewrap sets `no_new_privs` before loading it).
 *
 * @throws SandboxUnavailableError when a sandboxed mode is requested and a required piece is missing
 *   (bubblewrap, prlimit, a seccomp filter for this architecture, a non-root user under a root host).
 * @throws SandboxSpecError when the spec would expose the whole filesystem.
 */
export function wrapCommand(argv: string[], spec: SandboxSpec, bwrapPath: string | null, cwd: string, opts: WrapOptions = {}): WrappedCommand {
  if (argv.length === 0) throw new TypeError("wrapCommand: argv must not be empty");
  if (spec.mode === "danger-full-access") {
    return { file: argv[0]!, args: argv.slice(1), env: fullAccessEnvironment(opts.env), user: null, seccomp: null };
  }
  if (bwrapPath === null) throw new SandboxUnavailableError();
  const prlimit = opts.prlimitPath === undefined ? findPrlimit() : opts.prlimitPath;
  if (prlimit === null) throw new SandboxUnavailableError("sandbox unavailable: util-linux prlimit is not installed; refusing to run a sandboxed command");
  const seccomp = sandboxSeccompFilter();
  if (seccomp === null) throw new SandboxUnavailableError(`sandbox unavailable: no seccomp filter for architecture ${process.arch}; refusing to run a sandboxed command`);
  const user = opts.user ?? null;
  if (user === null ? typeof process.getuid === "function" && process.getuid() === 0 : user.uid === 0 || user.gid === 0) {
    throw new SandboxUnavailableError("sandbox unavailable: the host runs as root and no unprivileged sandbox user was given; refusing to run a sandboxed command");
  }
  const limits = opts.limits ?? DEFAULT_SANDBOX_LIMITS;

  const bwrap = [
    "--unshare-user",
    "--disable-userns",
    "--cap-drop", "ALL",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...(spec.networkAccess ? [] : ["--unshare-net"]),
    "--hostname", "sandbox",
    "--new-session",
    "--die-with-parent",
    "--clearenv",
  ];
  for (const [name, value] of Object.entries(sandboxEnvironment(opts.env, spec))) bwrap.push("--setenv", name, value);
  bwrap.push(...filesystemViewArgs(spec, cwd, limits), "--seccomp", String(SECCOMP_FD));

  return {
    file: prlimit,
    args: [...prlimitArgs(limits), "--", bwrapPath, ...bwrap, "--", ...argv],
    env: { PATH: "/usr/bin:/bin" },
    user,
    seccomp,
  };
}
