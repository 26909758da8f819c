import { mkdirSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { canonicalPath, isInside } from "../sandbox/sandbox-spec.ts";
import { policyError } from "./policy-caps.ts";

/**
 * Where one tenant's threads may work. `root` is `<workspaceRoot>/<tenant>` after symlinks; when
 * `confined`, every cwd, writable root and path a tool touches must resolve inside it.
 */
export interface WorkspaceBounds {
  readonly root: string;
  readonly confined: boolean;
}

/** Tenant ids become one directory name under the workspace root; anything else is refused. */
const TENANT_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Creates (if needed) and returns the tenant's workspace bounds. */
export function tenantBounds(workspaceRoot: string, tenant: string, confined: boolean): WorkspaceBounds {
  if (!TENANT_SEGMENT.test(tenant) || tenant.includes("..")) throw new Error(`tenant id ${JSON.stringify(tenant)} cannot name a workspace directory`);
  const dir = join(resolve(workspaceRoot), tenant);
  mkdirSync(dir, { recursive: true });
  return { root: realpathSync(dir), confined };
}

/**
 * A client-supplied cwd: a relative one is taken against the tenant's root; the result must be an
 * existing directory and, when confined, lie inside the root after symlinks. Returns the resolved
 * path (symlinks followed), or throws -32602 naming `field`.
 */
export function confineCwd(bounds: WorkspaceBounds, cwd: string, field = "cwd"): string {
  const abs = isAbsolute(cwd) ? resolve(cwd) : resolve(bounds.root, cwd);
  let real: string;
  try {
    real = realpathSync.native(abs);
  } catch {
    // Outside is decided before existence, so a refusal says nothing about paths beyond the root.
    if (bounds.confined && !isInside(canonicalPath(abs), bounds.root)) throw outside(field, cwd, bounds);
    throw policyError(field, `${field} ${cwd} does not exist`);
  }
  if (bounds.confined && !isInside(real, bounds.root)) throw outside(field, cwd, bounds);
  if (!statSync(real).isDirectory()) throw policyError(field, `${field} ${cwd} is not a directory`);
  return real;
}

/**
 * `writableRoots` of a workspace-write policy: each taken against the thread's cwd (as the sandbox
 * does) and, when confined, required inside the tenant's root after symlinks. Returns the resolved
 * roots, or throws -32602 naming `field`.
 */
export function confineWritableRoots(bounds: WorkspaceBounds, cwd: string, roots: readonly string[], field: string): string[] {
  const out: string[] = [];
  for (const r of roots) {
    if (r.length === 0) continue;
    const real = canonicalPath(resolve(cwd, r));
    if (bounds.confined && !isInside(real, bounds.root)) throw outside(field, r, bounds);
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

/** True when `path` (after symlinks of its existing prefix) lies inside the bounds, or nothing is confined. */
export function withinBounds(bounds: WorkspaceBounds, path: string): boolean {
  return !bounds.confined || isInside(canonicalPath(path), bounds.root);
}

function outside(field: string, path: string, bounds: WorkspaceBounds) {
  return policyError(field, `${field} ${path} is outside the workspace root ${bounds.root}`);
}
