/** `AskForApproval` as it travels; the experimental `granular` form is accepted only with `experimentalApi`. */
export type AskForApproval =
  | "untrusted"
  | "on-request"
  | "never"
  | {
      granular: {
        sandbox_approval: boolean;
        rules: boolean;
        mcp_elicitations: boolean;
        skill_approval?: boolean;
        request_permissions?: boolean;
      };
    };

/** `SandboxMode`, the thread-level enum (kebab-case). */
export type SandboxMode = "read-only" | "workspace-write" | "danger-full-access";

/** `SandboxPolicy`, the object form used by turns and thread responses. */
export type SandboxPolicy =
  | { type: "dangerFullAccess" }
  | { type: "readOnly"; networkAccess: boolean }
  | {
      type: "workspaceWrite";
      writableRoots: string[];
      networkAccess: boolean;
      excludeTmpdirEnvVar: boolean;
      excludeSlashTmp: boolean;
    }
  | { type: "externalSandbox"; networkAccess: "restricted" | "enabled" };

export type ApprovalsReviewer = "user" | "auto_review" | "guardian_subagent";

/** Maps the thread-level mode to the policy object reported in responses. */
export function sandboxPolicyFromMode(mode: SandboxMode): SandboxPolicy {
  switch (mode) {
    case "read-only":
      return { type: "readOnly", networkAccess: false };
    case "workspace-write":
      return {
        type: "workspaceWrite",
        writableRoots: [],
        networkAccess: false,
        excludeTmpdirEnvVar: false,
        excludeSlashTmp: false,
      };
    case "danger-full-access":
      return { type: "dangerFullAccess" };
  }
}

export type CommandExecutionApprovalDecision =
  | "accept"
  | "acceptForSession"
  | "decline"
  | "cancel"
  | { acceptWithExecpolicyAmendment: { execpolicy_amendment: string[] } }
  | { applyNetworkPolicyAmendment: { network_policy_amendment: { host: string; action: "allow" | "deny" } } };

export type FileChangeApprovalDecision = "accept" | "acceptForSession" | "decline" | "cancel";
