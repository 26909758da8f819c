import { test } from "node:test";
import assert from "node:assert/strict";
import { sandboxPolicyFromMode, type SandboxPolicy } from "@threadmesh/protocol";
import {
  OPERATOR_POLICY_CAPS,
  SHARED_POLICY_CAPS,
  THREAD_FIELDS,
  TURN_FIELDS,
  capPolicy,
  configuredPolicyCaps,
  defaultsProblems,
  type PolicyCaps,
} from "../src/policy/policy-caps.ts";
import { resolveHostConfig } from "../src/config.ts";
import { refusal } from "./policy-fixture.ts";

const WRITE = sandboxPolicyFromMode("workspace-write");
const FULL: SandboxPolicy = { type: "dangerFullAccess" };

test("shared caps refuse danger-full-access and externalSandbox, naming the field of the request", () => {
  assert.deepEqual(refusal(() => capPolicy(SHARED_POLICY_CAPS, "on-request", FULL, THREAD_FIELDS)), {
    code: -32602,
    field: "sandbox",
    message: "sandbox danger-full-access is not allowed by the server (at most workspace-write)",
  });
  const external = refusal(() => capPolicy(SHARED_POLICY_CAPS, "on-request", { type: "externalSandbox", networkAccess: "restricted" }, TURN_FIELDS));
  assert.equal(external.field, "sandboxPolicy");
  assert.match(external.message, /externalSandbox/);
});

test("a sandbox within the cap passes unchanged", () => {
  assert.equal(capPolicy(SHARED_POLICY_CAPS, "never", WRITE, THREAD_FIELDS), WRITE);
  assert.deepEqual(capPolicy(SHARED_POLICY_CAPS, "untrusted", { type: "readOnly", networkAccess: false }, TURN_FIELDS), { type: "readOnly", networkAccess: false });
});

test("read-only as the highest mode refuses workspace-write", () => {
  const caps: PolicyCaps = { ...SHARED_POLICY_CAPS, maxSandbox: "read-only" };
  assert.equal(refusal(() => capPolicy(caps, "on-request", WRITE, TURN_FIELDS)).field, "sandboxPolicy");
});

test("approval policies outside the allowed list are refused; granular counts as one name", () => {
  const caps: PolicyCaps = { ...SHARED_POLICY_CAPS, approvalPolicies: ["on-request", "untrusted"] };
  assert.deepEqual(refusal(() => capPolicy(caps, "never", WRITE, THREAD_FIELDS)), {
    code: -32602,
    field: "approvalPolicy",
    message: "approvalPolicy never is not allowed by the server (allowed: on-request, untrusted)",
  });
  const granular = { granular: { sandbox_approval: true, rules: true, mcp_elicitations: false } };
  assert.equal(refusal(() => capPolicy(caps, granular, WRITE, TURN_FIELDS)).field, "approvalPolicy");
  assert.equal(capPolicy(caps, "untrusted", WRITE, TURN_FIELDS), WRITE);
});

test("never without a sandbox is refused unless allowed, even when full access is", () => {
  const caps: PolicyCaps = { ...SHARED_POLICY_CAPS, maxSandbox: "danger-full-access" };
  assert.deepEqual(refusal(() => capPolicy(caps, "never", FULL, THREAD_FIELDS)), {
    code: -32602,
    field: "approvalPolicy",
    message: "approvalPolicy never is not allowed without a sandbox by the server",
  });
  const silentGranular = { granular: { sandbox_approval: false, rules: true, mcp_elicitations: true } };
  assert.equal(refusal(() => capPolicy(caps, silentGranular, FULL, TURN_FIELDS)).field, "approvalPolicy");
  assert.equal(capPolicy(caps, "on-request", FULL, THREAD_FIELDS), FULL);
  assert.equal(capPolicy(caps, "never", WRITE, THREAD_FIELDS), WRITE);
  assert.equal(capPolicy({ ...caps, neverWithoutSandbox: true }, "never", FULL, THREAD_FIELDS), FULL);
});

test("network access is clamped off when the caps forbid it, and kept when they allow it", () => {
  const net: SandboxPolicy = { type: "workspaceWrite", writableRoots: ["/w/a"], networkAccess: true, excludeTmpdirEnvVar: false, excludeSlashTmp: false };
  assert.deepEqual(capPolicy(SHARED_POLICY_CAPS, "on-request", net, TURN_FIELDS), { ...net, networkAccess: false });
  assert.deepEqual(capPolicy(SHARED_POLICY_CAPS, "on-request", { type: "readOnly", networkAccess: true }, TURN_FIELDS), { type: "readOnly", networkAccess: false });
  assert.equal(capPolicy(OPERATOR_POLICY_CAPS, "on-request", net, TURN_FIELDS), net);
});

test("the operator's caps allow everything Codex does", () => {
  assert.equal(capPolicy(OPERATOR_POLICY_CAPS, "never", FULL, THREAD_FIELDS), FULL);
  assert.deepEqual(capPolicy(OPERATOR_POLICY_CAPS, "never", { type: "externalSandbox", networkAccess: "enabled" }, TURN_FIELDS), { type: "externalSandbox", networkAccess: "enabled" });
});

test("defaults beyond the caps are reported, one line each", () => {
  assert.deepEqual(defaultsProblems(SHARED_POLICY_CAPS, { approvalPolicy: "on-request", sandbox: "workspace-write" }), []);
  assert.deepEqual(defaultsProblems(SHARED_POLICY_CAPS, { approvalPolicy: "on-request", sandbox: "danger-full-access" }), [
    "default sandbox danger-full-access exceeds the highest allowed sandbox workspace-write",
  ]);
  assert.equal(defaultsProblems({ ...SHARED_POLICY_CAPS, approvalPolicies: ["untrusted"] }, { approvalPolicy: "on-request", sandbox: "read-only" }).length, 1);
  assert.equal(defaultsProblems({ ...SHARED_POLICY_CAPS, maxSandbox: "danger-full-access" }, { approvalPolicy: "never", sandbox: "danger-full-access" }).length, 1);
  assert.throws(() => resolveHostConfig({ defaultSandbox: "danger-full-access" }), /default sandbox danger-full-access exceeds the highest allowed sandbox workspace-write/);
});

test("the host's defaults are the shared-deployment caps; a configured lookup answers the same caps for every tenant", () => {
  assert.deepEqual(resolveHostConfig().policyCaps, SHARED_POLICY_CAPS);
  assert.equal(resolveHostConfig().confineWorkspaces, true);
  const lookup = configuredPolicyCaps({ ...SHARED_POLICY_CAPS, escalation: true });
  assert.equal(lookup("a"), lookup("b"));
  assert.equal(lookup("a").escalation, true);
  assert.ok(Object.isFrozen(lookup("a")));
});
