import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ThreadSettings } from "@threadmesh/persistence";
import type { AskForApproval, SandboxPolicy } from "@threadmesh/protocol";
import { THREAD_FIELDS, TURN_FIELDS, capPolicy, type PolicyCaps, type PolicyFields } from "./policy-caps.ts";
import { confineCwd, confineWritableRoots, type WorkspaceBounds } from "./workspace-bounds.ts";

/** The tenant's caps and workspace bounds, as a thread or turn is checked against them. */
export interface TenantPolicy {
  readonly caps: PolicyCaps;
  readonly bounds: WorkspaceBounds;
}

/**
 * thread/start, thread/resume, thread/fork: the requested approval policy and sandbox checked against
 * the caps (-32602 naming `approvalPolicy` or `sandbox`); returns the settings to store.
 */
export function capThreadSettings(policy: TenantPolicy, settings: ThreadSettings): ThreadSettings {
  const sandbox = capPolicy(policy.caps, settings.approvalPolicy as AskForApproval, settings.sandbox as SandboxPolicy, THREAD_FIELDS);
  return sandbox === settings.sandbox ? settings : { ...settings, sandbox };
}

/** What a turn runs with, once checked. */
export interface CheckedTurnPolicy {
  cwd: string;
  sandbox: SandboxPolicy;
}

/**
 * turn/start (and a turn continued after failover): the thread's effective cwd, approval policy and
 * sandbox — its stored values under this request's overrides — checked against the tenant's caps and
 * workspace. A stored value that no longer fits (older data, lowered caps) is refused like a requested
 * one, naming the turn/start field that would fix it: `cwd`, `approvalPolicy`, `sandboxPolicy` or
 * `sandboxPolicy.writableRoots` (`permissions` when a turn/start profile chose the sandbox). A thread's own workspace (`<root>/<threadId>`) is recreated if gone.
 */
export function checkTurnPolicy(policy: TenantPolicy, threadId: string, v: { cwd: string; approvalPolicy: AskForApproval; sandbox: SandboxPolicy }, fields: PolicyFields = TURN_FIELDS): CheckedTurnPolicy {
  if (v.cwd === join(policy.bounds.root, threadId)) mkdirSync(v.cwd, { recursive: true });
  const cwd = confineCwd(policy.bounds, v.cwd);
  let sandbox = capPolicy(policy.caps, v.approvalPolicy, v.sandbox, fields);
  if (sandbox.type === "workspaceWrite" && sandbox.writableRoots.length > 0) {
    sandbox = { ...sandbox, writableRoots: confineWritableRoots(policy.bounds, cwd, sandbox.writableRoots, `${fields.sandbox}.writableRoots`) };
  }
  return { cwd, sandbox };
}
