import type { ThreadSettings } from "@threadmesh/persistence";
import { InvalidRequestError, sandboxPolicyFromMode, type AskForApproval, type SandboxMode, type SandboxPolicy } from "@threadmesh/protocol";
import type { HostConfig, ModelConfig } from "./config.ts";
import { profileSandboxMode } from "./policy/permission-profiles.ts";

/** Thread-level overrides accepted by thread/start, thread/resume and thread/fork (all optional). */
export interface ThreadOverrides {
  model?: string | null;
  modelProvider?: string | null;
  serviceTier?: string | null;
  approvalPolicy?: AskForApproval | null;
  approvalsReviewer?: string | null;
  sandbox?: SandboxMode | null;
  /** A built-in permission profile (experimental); not with `sandbox`. */
  permissions?: string | null;
  config?: Record<string, unknown> | null;
  baseInstructions?: string | null;
  developerInstructions?: string | null;
}

/** Settings of a new thread: client overrides over the host's defaults. */
export function initialSettings(p: ThreadOverrides & { dynamicTools?: unknown[] | null }, config: Readonly<HostConfig>, model: Readonly<ModelConfig>): ThreadSettings {
  return {
    model: p.model ?? configString(p.config, "model") ?? model.model,
    modelProvider: p.modelProvider ?? model.provider,
    reasoningEffort: configString(p.config, "model_reasoning_effort") ?? model.reasoningEffort,
    approvalPolicy: p.approvalPolicy ?? config.defaultApprovalPolicy,
    approvalsReviewer: p.approvalsReviewer ?? "user",
    sandbox: sandboxPolicyFromMode(p.sandbox ?? config.defaultSandbox),
    baseInstructions: p.baseInstructions ?? null,
    developerInstructions: p.developerInstructions ?? null,
    serviceTier: p.serviceTier ?? null,
    dynamicTools: p.dynamicTools ?? null,
  };
}

/**
 * Settings after resume/fork overrides; fields the client left out keep their stored value. As Codex, a
 * `permissions` profile replaces the sandbox and the active profile; a `sandbox` drops the profile.
 */
export function overriddenSettings(s: ThreadSettings, p: ThreadOverrides): ThreadSettings {
  const profileMode = profileSandboxMode(p);
  return {
    ...s,
    model: p.model ?? configString(p.config, "model") ?? s.model,
    modelProvider: p.modelProvider ?? s.modelProvider,
    reasoningEffort: configString(p.config, "model_reasoning_effort") ?? s.reasoningEffort,
    approvalPolicy: p.approvalPolicy ?? s.approvalPolicy,
    approvalsReviewer: p.approvalsReviewer ?? s.approvalsReviewer,
    sandbox: profileMode ? sandboxPolicyFromMode(profileMode) : p.sandbox ? sandboxPolicyFromMode(p.sandbox) : s.sandbox,
    ...(profileMode ? { permissionProfile: p.permissions } : p.sandbox ? { permissionProfile: null } : {}),
    baseInstructions: p.baseInstructions ?? s.baseInstructions,
    developerInstructions: p.developerInstructions ?? s.developerInstructions,
    serviceTier: p.serviceTier ?? s.serviceTier,
  };
}

/** A `SandboxPolicy` from the wire with every optional field filled in, as threads report it. */
export function normalizeSandboxPolicy(p: Record<string, unknown> & { type: string }): SandboxPolicy {
  switch (p.type) {
    case "dangerFullAccess":
      return { type: "dangerFullAccess" };
    case "readOnly":
      return { type: "readOnly", networkAccess: p["networkAccess"] === true };
    case "workspaceWrite":
      return {
        type: "workspaceWrite",
        writableRoots: Array.isArray(p["writableRoots"]) ? (p["writableRoots"] as string[]) : [],
        networkAccess: p["networkAccess"] === true,
        excludeTmpdirEnvVar: p["excludeTmpdirEnvVar"] === true,
        excludeSlashTmp: p["excludeSlashTmp"] === true,
      };
    case "externalSandbox":
      return { type: "externalSandbox", networkAccess: p["networkAccess"] === "enabled" ? "enabled" : "restricted" };
    default:
      throw new InvalidRequestError(`unknown sandbox policy type: ${p.type}`);
  }
}

function configString(config: Record<string, unknown> | null | undefined, key: string): string | undefined {
  const v = config?.[key];
  return typeof v === "string" ? v : undefined;
}
