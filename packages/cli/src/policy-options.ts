import type { PolicyCaps } from "@threadmesh/session-host";
import type { Config } from "./config.ts";

/** Sandbox modes from the most to the least confined (as the session host ranks them). */
const SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"] as const;

/** The policy caps the options describe (one value for every tenant). */
export function policyCapsOf(config: Config): PolicyCaps {
  return {
    maxSandbox: config.maxSandbox,
    approvalPolicies: [...config.approvalPolicies],
    neverWithoutSandbox: config.allowNeverWithoutSandbox,
    escalation: config.allowEscalation,
    network: config.allowNetwork,
  };
}

/**
 * A default approval policy or sandbox beyond the caps is a start-up error; one line per problem,
 * naming the variables to change.
 */
export function policyDefaultsProblems(config: Config): string[] {
  const caps = policyCapsOf(config);
  const problems: string[] = [];
  if (SANDBOX_MODES.indexOf(config.sandbox) > SANDBOX_MODES.indexOf(caps.maxSandbox)) {
    problems.push(`THREADMESH_SANDBOX=${config.sandbox} is beyond THREADMESH_MAX_SANDBOX=${caps.maxSandbox}: raise the cap or lower the default`);
  }
  if (!caps.approvalPolicies.includes(config.approvalPolicy)) {
    problems.push(`THREADMESH_APPROVAL_POLICY=${config.approvalPolicy} is not in THREADMESH_APPROVAL_POLICIES=${caps.approvalPolicies.join(",")}`);
  }
  if (config.approvalPolicy === "never" && config.sandbox === "danger-full-access" && !caps.neverWithoutSandbox) {
    problems.push(`THREADMESH_APPROVAL_POLICY=never with THREADMESH_SANDBOX=danger-full-access needs THREADMESH_ALLOW_NEVER_WITHOUT_SANDBOX=true`);
  }
  return problems;
}
