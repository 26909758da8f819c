import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import type { SandboxPolicy } from "@threadmesh/protocol";

/** What a tool command may touch, resolved for one thread and turn. */
export interface SandboxSpec {
  /** `read-only`: nothing writable; `workspace-write`: workspace and `writableRoots`; `danger-full-access`: no sandbox. */
  mode: "read-only" | "workspace-write" | "danger-full-access";
  /** Absolute path of the thread's cwd; writable in `workspace-write`. */
  workspace: string;
  /** Extra absolute writable roots (only meaningful in `workspace-write`). */
  writableRoots: string[];
  /** Whether commands may use the network. Always true in `danger-full-access`. */
  networkAccess: boolean;
}

/**
 * Turns a wire `SandboxPolicy` into the spec the sandbox and the tools use.
 * `externalSandbox` means the caller sandboxes externally, so Threadmesh runs unconfined, as Codex does.
 * Relative writable roots are resolved against `workspace`.
 */
export function sandboxSpecFromPolicy(policy: SandboxPolicy, workspace: string): SandboxSpec {
  const ws = resolve(workspace);
  switch (policy.type) {
    case "dangerFullAccess":
      return { mode: "danger-full-access", workspace: ws, writableRoots: [], networkAccess: true };
    case "externalSandbox":
      return { mode: "danger-full-access", workspace: ws, writableRoots: [], networkAccess: policy.networkAccess === "enabled" };
    case "readOnly":
      return { mode: "read-only", workspace: ws, writableRoots: [], networkAccess: policy.networkAccess === true };
    case "workspaceWrite": {
      const roots = (policy.writableRoots ?? []).filter((r) => r.length > 0).map((r) => resolve(ws, r));
      return {
        mode: "workspace-write",
        workspace: ws,
        writableRoots: [...new Set(roots)],
        networkAccess: policy.networkAccess === true,
      };
    }
  }
}

/**
 * Whether a write to `absPath` is allowed by `spec`. In `workspace-write` the path must lie inside the
 * workspace or a writable root after normalising `..` and resolving symlinks of every existing
 * ancestor (a dangling symlink counts as its target), so neither `..` nor a link can escape.
 */
export function isPathWritable(absPath: string, spec: SandboxSpec): boolean {
  if (spec.mode === "danger-full-access") return true;
  if (spec.mode === "read-only") return false;
  if (!isAbsolute(absPath)) return false;
  const target = canonicalPath(absPath);
  return [spec.workspace, ...spec.writableRoots].some((root) => isInside(target, canonicalPath(root)));
}

/** Symlink chains longer than this are treated as unresolvable (Linux uses 40 as well). */
const MAX_SYMLINK_HOPS = 40;

/** The path with `..` removed and symlinks of its existing prefix resolved; missing tails are kept verbatim. */
export function canonicalPath(p: string, hops = 0): string {
  const abs = resolve(p);
  try {
    // realpath(3): one system call where the JavaScript version takes one per path component.
    return realpathSync.native(abs);
  } catch {
    // Some component is missing or the chain is broken; resolve what exists, one level at a time.
  }
  if (hops < MAX_SYMLINK_HOPS) {
    try {
      if (lstatSync(abs).isSymbolicLink()) {
        return canonicalPath(resolve(dirname(abs), readlinkSync(abs)), hops + 1);
      }
    } catch {
      // Not there at all: fall through to the parent.
    }
  }
  const parent = dirname(abs);
  if (parent === abs) return abs;
  return join(canonicalPath(parent, hops), basename(abs));
}

/** True when `p` equals `root` or lies below it. Both must be canonical. */
export function isInside(p: string, root: string): boolean {
  if (p === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return p.startsWith(prefix);
}
