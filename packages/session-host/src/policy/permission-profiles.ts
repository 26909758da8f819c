import { InvalidRequestError, type SandboxMode } from "@threadmesh/protocol";

/**
 * Codex's built-in permission profiles (`permissions` at thread/start and turn/start, experimental) and the sandbox
 * each names. Threads report the chosen one as `activePermissionProfile`; the tenant's caps still
 * bound the sandbox it yields, as for an explicit `sandbox`.
 */
const BUILTIN_PROFILES: Readonly<Record<string, SandboxMode>> = {
  ":read-only": "read-only",
  ":workspace": "workspace-write",
  ":danger-full-access": "danger-full-access",
};

/** The sandbox mode a `permissions` profile selects at thread/start; null without one. Errors carry Codex's messages. */
export function profileSandboxMode(p: { permissions?: string | null; sandbox?: SandboxMode | null }): SandboxMode | null {
  return builtinProfileMode(p.permissions, p.sandbox ? "sandbox" : null);
}

/**
 * The sandbox mode a `permissions` profile selects at turn/start (for this turn and later ones, as
 * Codex); null without one.
 */
export function turnProfileSandboxMode(p: { permissions?: string | null; sandboxPolicy?: unknown }): SandboxMode | null {
  return builtinProfileMode(p.permissions, p.sandboxPolicy ? "sandboxPolicy" : null);
}

function builtinProfileMode(id: string | null | undefined, conflicting: string | null): SandboxMode | null {
  if (id === undefined || id === null) return null;
  if (conflicting) throw new InvalidRequestError(`\`permissions\` cannot be combined with \`${conflicting}\``);
  const mode = BUILTIN_PROFILES[id];
  if (mode) return mode;
  // User-defined `[permissions.<id>]` tables do not exist here: there is no config.toml per tenant.
  if (id.startsWith(":")) throw new InvalidRequestError(`failed to load configuration: default_permissions refers to unknown built-in profile \`${id}\``);
  throw new InvalidRequestError("failed to load configuration: default_permissions requires a `[permissions]` table");
}

/** `activePermissionProfile` of a thread started with a profile. */
export function activePermissionProfile(id: string | null | undefined): { id: string; extends: null } | null {
  return id ? { id, extends: null } : null;
}
