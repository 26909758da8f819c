import { InvalidParamsError, type AskForApproval, type SandboxMode, type SandboxPolicy } from "@threadmesh/protocol";

/** An approval policy as a cap names it; `granular` stands for every granular policy. */
export type ApprovalPolicyName = "untrusted" | "on-request" | "never" | "granular";

/** Every approval policy name, in the order help texts list them. */
export const APPROVAL_POLICY_NAMES: readonly ApprovalPolicyName[] = ["untrusted", "on-request", "never", "granular"];

/** Sandbox modes from the most to the least confined; a cap allows its mode and every mode before it. */
export const SANDBOX_MODES: readonly SandboxMode[] = ["read-only", "workspace-write", "danger-full-access"];

/**
 * The most a client may ask for, set by the operator. Resolved per tenant through a
 * {@link PolicyCapsLookup}; enforced by the session host on thread/start, thread/resume, thread/fork,
 * turn/start and when tools run.
 */
export interface PolicyCaps {
  /** Highest sandbox mode a thread may run with; `externalSandbox` counts as `danger-full-access`. */
  readonly maxSandbox: SandboxMode;
  /** Approval policies a thread may run with. */
  readonly approvalPolicies: readonly ApprovalPolicyName[];
  /**
   * Whether a thread without a sandbox (`danger-full-access`, `externalSandbox`) may run with an
   * approval policy that never asks (`never`, or granular without `sandbox_approval`).
   */
  readonly neverWithoutSandbox: boolean;
  /**
   * Whether escalation requests (`sandbox_permissions: "require_escalated"`, patches writing outside
   * the sandbox) may be approved; when false they are refused to the model and nobody is asked.
   */
  readonly escalation: boolean;
  /** Whether sandboxed commands may have network access; when false requests for it are clamped off. */
  readonly network: boolean;
}

/** Caps for a shared deployment: sandboxed, nobody may approve running outside the sandbox, no network. */
export const SHARED_POLICY_CAPS: PolicyCaps = Object.freeze({
  maxSandbox: "workspace-write",
  approvalPolicies: Object.freeze([...APPROVAL_POLICY_NAMES]),
  neverWithoutSandbox: false,
  escalation: false,
  network: false,
});

/** Caps of a single operator on their own machine (`threadmesh dev`): everything Codex itself allows. */
export const OPERATOR_POLICY_CAPS: PolicyCaps = Object.freeze({
  maxSandbox: "danger-full-access",
  approvalPolicies: Object.freeze([...APPROVAL_POLICY_NAMES]),
  neverWithoutSandbox: true,
  escalation: true,
  network: true,
});

/**
 * The caps of one tenant. The only way the host learns them: today one configured value for every
 * tenant ({@link configuredPolicyCaps}); a per-tenant store replaces this function.
 */
export type PolicyCapsLookup = (tenant: string) => PolicyCaps;

/** A lookup that gives every tenant the same caps. */
export function configuredPolicyCaps(caps: PolicyCaps): PolicyCapsLookup {
  const frozen = Object.freeze({ ...caps, approvalPolicies: Object.freeze([...caps.approvalPolicies]) });
  return () => frozen;
}

/** The sandbox mode a policy amounts to (`externalSandbox` means Threadmesh does not sandbox). */
export function sandboxModeOf(policy: SandboxPolicy): SandboxMode {
  switch (policy.type) {
    case "readOnly":
      return "read-only";
    case "workspaceWrite":
      return "workspace-write";
    case "dangerFullAccess":
    case "externalSandbox":
      return "danger-full-access";
  }
}

/** The cap name of an approval policy. */
export function approvalPolicyName(policy: AskForApproval): ApprovalPolicyName {
  return typeof policy === "string" ? policy : "granular";
}

/** True for policies under which nobody is ever asked before a command runs. */
export function neverAsks(policy: AskForApproval): boolean {
  return policy === "never" || (typeof policy === "object" && !policy.granular.sandbox_approval);
}

/** Which request fields a check names in its error. */
export interface PolicyFields {
  approvalPolicy: string;
  sandbox: string;
}

/** Fields of thread/start, thread/resume and thread/fork. */
export const THREAD_FIELDS: PolicyFields = { approvalPolicy: "approvalPolicy", sandbox: "sandbox" };
/** Fields of turn/start. */
export const TURN_FIELDS: PolicyFields = { approvalPolicy: "approvalPolicy", sandbox: "sandboxPolicy" };
/** Fields of turn/start choosing a permission profile: the sandbox comes from `permissions`. */
export const TURN_PROFILE_FIELDS: PolicyFields = { approvalPolicy: "approvalPolicy", sandbox: "permissions" };

/**
 * Checks a thread's effective approval policy and sandbox against `caps`; returns the sandbox policy
 * to run with (network access clamped off when the caps forbid it: Codex clients send their
 * configured `networkAccess` on every turn, and refusing it would stop them from working at all).
 * Anything else beyond the caps is refused with -32602 naming the field.
 */
export function capPolicy(caps: PolicyCaps, approval: AskForApproval, sandbox: SandboxPolicy, fields: PolicyFields): SandboxPolicy {
  const mode = sandboxModeOf(sandbox);
  if (SANDBOX_MODES.indexOf(mode) > SANDBOX_MODES.indexOf(caps.maxSandbox)) {
    const asked = sandbox.type === "externalSandbox" ? "externalSandbox (no sandbox)" : mode;
    throw policyError(fields.sandbox, `${fields.sandbox} ${asked} is not allowed by the server (at most ${caps.maxSandbox})`);
  }
  const name = approvalPolicyName(approval);
  if (!caps.approvalPolicies.includes(name)) {
    throw policyError(fields.approvalPolicy, `${fields.approvalPolicy} ${name} is not allowed by the server (allowed: ${caps.approvalPolicies.join(", ") || "none"})`);
  }
  if (mode === "danger-full-access" && neverAsks(approval) && !caps.neverWithoutSandbox) {
    throw policyError(fields.approvalPolicy, `${fields.approvalPolicy} ${name} is not allowed without a sandbox by the server`);
  }
  return caps.network ? sandbox : withoutNetwork(sandbox);
}

/** The policy with network access turned off (full access stays as it is: it has no sandbox to clamp). */
export function withoutNetwork(policy: SandboxPolicy): SandboxPolicy {
  switch (policy.type) {
    case "readOnly":
    case "workspaceWrite":
      return policy.networkAccess ? { ...policy, networkAccess: false } : policy;
    default:
      return policy;
  }
}

/**
 * Checks the operator's defaults against the caps at start-up; returns one line per problem (empty when
 * they fit).
 */
export function defaultsProblems(caps: PolicyCaps, defaults: { approvalPolicy: AskForApproval; sandbox: SandboxMode }): string[] {
  const problems: string[] = [];
  if (SANDBOX_MODES.indexOf(defaults.sandbox) > SANDBOX_MODES.indexOf(caps.maxSandbox)) {
    problems.push(`default sandbox ${defaults.sandbox} exceeds the highest allowed sandbox ${caps.maxSandbox}`);
  }
  const name = approvalPolicyName(defaults.approvalPolicy);
  if (!caps.approvalPolicies.includes(name)) {
    problems.push(`default approval policy ${name} is not among the allowed approval policies (${caps.approvalPolicies.join(", ") || "none"})`);
  }
  if (defaults.sandbox === "danger-full-access" && neverAsks(defaults.approvalPolicy) && !caps.neverWithoutSandbox) {
    problems.push(`default approval policy ${name} with default sandbox danger-full-access needs never-without-sandbox to be allowed`);
  }
  return problems;
}

/** -32602 naming the offending request field in `data.field`. */
export function policyError(field: string, message: string): InvalidParamsError {
  return new InvalidParamsError(message, { field });
}
