import { accessSync, constants, existsSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { canonicalPath, isInside, type SandboxSpec } from "./sandbox-spec.ts";

/** Thrown when a sandboxed mode is requested but bubblewrap is missing; sandboxed modes never fall back to running unconfined. */
export class SandboxUnavailableError extends Error {
  constructor() {
    super("sandbox unavailable: bubblewrap (bwrap) is not installed; refusing to run a sandboxed command");
    this.name = "SandboxUnavailableError";
  }
}

/**
 * Locates an executable `bwrap`: `explicitPath` when given (and executable), otherwise the first hit on
 * `pathEnv` (default: this process's `PATH`). Returns null when none is usable.
 */
export function findBwrap(explicitPath?: string | null, pathEnv: string | undefined = process.env["PATH"]): string | null {
  if (explicitPath) return isExecutableFile(explicitPath) ? resolve(explicitPath) : null;
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, "bwrap");
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

const SLASH_TMP = "/tmp";

/**
 * The program and arguments that run `argv` in `cwd` under `spec`.
 *
 * `danger-full-access` runs `argv` directly. Otherwise bubblewrap gets a read-only view of `/`, a fresh
 * `/dev` and `/proc`, a private `/tmp` (unless `/tmp` is the workspace or lies inside it, which would hide
 * it), writable binds for the workspace and writable roots in `workspace-write`, no network unless
 * allowed, its own PID namespace and session, and dies with its parent. Paths that must stay reachable
 * under the private `/tmp` (workspace, roots, cwd) are bound again on top of it.
 *
 * @throws SandboxUnavailableError when a sandboxed mode is requested and `bwrapPath` is null.
 */
export function wrapCommand(
  argv: string[],
  spec: SandboxSpec,
  bwrapPath: string | null,
  cwd: string,
): { file: string; args: string[] } {
  if (argv.length === 0) throw new TypeError("wrapCommand: argv must not be empty");
  if (spec.mode === "danger-full-access") {
    return { file: argv[0]!, args: argv.slice(1) };
  }
  if (bwrapPath === null) throw new SandboxUnavailableError();

  const workspace = canonicalPath(spec.workspace);
  const writable = spec.mode === "workspace-write" ? dedupe([workspace, ...spec.writableRoots.map((r) => canonicalPath(r))]) : [];
  const realCwd = canonicalPath(cwd);

  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];

  const privateTmp = !isInside(SLASH_TMP, workspace) && !writable.some((root) => isInside(SLASH_TMP, root));
  if (privateTmp) args.push("--tmpfs", SLASH_TMP);

  // Binds are applied in order, so parents go before children (a later parent bind would shadow a child),
  // and all of them land on top of the tmpfs, which keeps workspace paths under /tmp visible.
  const binds: Array<{ flag: string; path: string }> = writable.map((root) => ({
    // A writable root that does not exist cannot be created under the read-only view; skip it quietly.
    flag: root === workspace ? "--bind" : "--bind-try",
    path: root,
  }));
  if (privateTmp) {
    for (const p of dedupe([workspace, realCwd])) {
      if (p === SLASH_TMP || !isInside(p, SLASH_TMP) || !existsSync(p)) continue;
      if (writable.some((root) => isInside(p, root))) continue;
      binds.push({ flag: "--ro-bind", path: p });
    }
  }
  binds.sort((a, b) => a.path.length - b.path.length);
  for (const { flag, path } of binds) args.push(flag, path, path);

  if (!spec.networkAccess) args.push("--unshare-net");
  args.push("--unshare-pid", "--die-with-parent", "--new-session", "--chdir", realCwd, "--", ...argv);
  return { file: bwrapPath, args };
}

function dedupe(paths: string[]): string[] {
  return [...new Set(paths)];
}
