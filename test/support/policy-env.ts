/**
 * Policy caps as environment for Threadmesh processes under test. Suites about approvals, full access
 * and failover run with what one operator on their own machine allows; the caps have their own suite.
 */
export const OPERATOR_CAPS_ENV: Readonly<Record<string, string>> = Object.freeze({
  THREADMESH_MAX_SANDBOX: "danger-full-access",
  THREADMESH_ALLOW_NEVER_WITHOUT_SANDBOX: "true",
  THREADMESH_ALLOW_ESCALATION: "true",
  THREADMESH_ALLOW_NETWORK: "true",
  THREADMESH_CONFINE_WORKSPACES: "true",
});

/** The defaults of a shared deployment (`threadmesh router` + `threadmesh host`), spelled out so `dev` runs with them too. */
export const SHARED_CAPS_ENV: Readonly<Record<string, string>> = Object.freeze({
  THREADMESH_MAX_SANDBOX: "workspace-write",
  THREADMESH_APPROVAL_POLICIES: "untrusted,on-request,never,granular",
  THREADMESH_ALLOW_NEVER_WITHOUT_SANDBOX: "false",
  THREADMESH_ALLOW_ESCALATION: "false",
  THREADMESH_ALLOW_NETWORK: "false",
  THREADMESH_CONFINE_WORKSPACES: "true",
});
