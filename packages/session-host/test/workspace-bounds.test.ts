import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { confineCwd, confineWritableRoots, tenantBounds, withinBounds } from "../src/policy/workspace-bounds.ts";
import { checkTurnPolicy } from "../src/policy/thread-policy.ts";
import { SHARED_POLICY_CAPS } from "../src/policy/policy-caps.ts";
import { refusal } from "./policy-fixture.ts";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "tm-bounds-")));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, "workspaces");
const bounds = tenantBounds(root, "acme", true);
const tenantRoot = join(root, "acme");
mkdirSync(join(tenantRoot, "proj", "src"), { recursive: true });
mkdirSync(join(root, "other", "proj"), { recursive: true });
mkdirSync(join(dir, "outside"), { recursive: true });
writeFileSync(join(tenantRoot, "file.txt"), "x");
symlinkSync("/etc", join(tenantRoot, "etc-link"));
symlinkSync(join(tenantRoot, "proj"), join(tenantRoot, "proj-link"));
symlinkSync(join(dir, "outside"), join(tenantRoot, "proj", "out-link"));
symlinkSync(join(dir, "nowhere", "x"), join(tenantRoot, "dangling"));

test("the tenant's root is created under the workspace root and resolved", () => {
  assert.deepEqual(bounds, { root: tenantRoot, confined: true });
  assert.throws(() => tenantBounds(root, "../escape", true), /cannot name a workspace directory/);
  assert.throws(() => tenantBounds(root, "a/b", true), /cannot name a workspace directory/);
  assert.throws(() => tenantBounds(root, "..", true), /cannot name a workspace directory/);
});

test("a cwd inside the tenant's root is accepted and resolved, relative ones against the root", () => {
  assert.equal(confineCwd(bounds, join(tenantRoot, "proj")), join(tenantRoot, "proj"));
  assert.equal(confineCwd(bounds, tenantRoot), tenantRoot);
  assert.equal(confineCwd(bounds, "proj/src"), join(tenantRoot, "proj", "src"));
  assert.equal(confineCwd(bounds, join(tenantRoot, "proj-link")), join(tenantRoot, "proj"), "a link inside resolves to its target");
  assert.equal(confineCwd(bounds, join(tenantRoot, "proj", "..", "proj")), join(tenantRoot, "proj"));
});

test("cwds outside the tenant's root are refused with -32602 naming cwd", () => {
  for (const cwd of ["/", "/etc", dir, root, join(root, "other", "proj"), join(tenantRoot, ".."), "..", "proj/../../other/proj", join(tenantRoot, "etc-link"), join(tenantRoot, "proj", "out-link")]) {
    const r = refusal(() => confineCwd(bounds, cwd));
    assert.equal(r.code, -32602, cwd);
    assert.equal(r.field, "cwd", cwd);
    assert.match(r.message, /is outside the workspace root/, cwd);
  }
});

test("a nonexistent cwd, a dangling link and a file are refused", () => {
  assert.deepEqual(refusal(() => confineCwd(bounds, join(tenantRoot, "missing"))), { code: -32602, field: "cwd", message: `cwd ${join(tenantRoot, "missing")} does not exist` });
  assert.match(refusal(() => confineCwd(bounds, join(tenantRoot, "dangling"))).message, /outside the workspace root/);
  assert.match(refusal(() => confineCwd(bounds, join(tenantRoot, "file.txt"))).message, /is not a directory/);
});

test("a nonexistent path outside is refused as outside, saying nothing about its existence", () => {
  assert.match(refusal(() => confineCwd(bounds, "/no/such/dir")).message, /is outside the workspace root/);
});

test("unconfined bounds accept any existing directory but still refuse missing ones", () => {
  const open = tenantBounds(root, "acme", false);
  assert.equal(confineCwd(open, "/etc"), "/etc");
  assert.equal(confineCwd(open, "proj"), join(tenantRoot, "proj"));
  assert.equal(refusal(() => confineCwd(open, "/no/such/dir")).field, "cwd");
  assert.equal(withinBounds(open, "/etc/passwd"), true);
});

test("writable roots resolve against the cwd and must stay inside the tenant's root", () => {
  const cwd = join(tenantRoot, "proj");
  assert.deepEqual(confineWritableRoots(bounds, cwd, ["src", join(tenantRoot, "new-dir"), "src"], "sandboxPolicy.writableRoots"), [join(cwd, "src"), join(tenantRoot, "new-dir")]);
  for (const r of ["/etc", "/", "../..", join(tenantRoot, "etc-link"), "out-link/sub", join(root, "other")]) {
    const e = refusal(() => confineWritableRoots(bounds, cwd, [r], "sandboxPolicy.writableRoots"));
    assert.deepEqual([e.code, e.field], [-32602, "sandboxPolicy.writableRoots"], r);
  }
});

test("tool paths: inside after links, or refused", () => {
  assert.equal(withinBounds(bounds, join(tenantRoot, "proj", "new", "file.txt")), true);
  assert.equal(withinBounds(bounds, join(tenantRoot, "etc-link", "passwd")), false);
  assert.equal(withinBounds(bounds, join(tenantRoot, "proj", "out-link", "x")), false);
  assert.equal(withinBounds(bounds, join(tenantRoot, "..", "other", "proj", "x")), false);
  assert.equal(withinBounds(bounds, "/etc/passwd"), false);
});

test("a turn checks its stored cwd too, and recreates the thread's own workspace", () => {
  const policy = { caps: SHARED_POLICY_CAPS, bounds };
  const sandbox = { type: "workspaceWrite" as const, writableRoots: [], networkAccess: true, excludeTmpdirEnvVar: false, excludeSlashTmp: false };
  const own = join(tenantRoot, "thread-1");
  assert.deepEqual(checkTurnPolicy(policy, "thread-1", { cwd: own, approvalPolicy: "on-request", sandbox }), { cwd: own, sandbox: { ...sandbox, networkAccess: false } });
  assert.equal(refusal(() => checkTurnPolicy(policy, "thread-2", { cwd: "/srv/old-data", approvalPolicy: "on-request", sandbox })).field, "cwd");
  assert.equal(refusal(() => checkTurnPolicy(policy, "thread-1", { cwd: own, approvalPolicy: "on-request", sandbox: { ...sandbox, writableRoots: ["/etc"] } })).field, "sandboxPolicy.writableRoots");
  assert.equal(refusal(() => checkTurnPolicy(policy, "thread-1", { cwd: own, approvalPolicy: "on-request", sandbox: { type: "dangerFullAccess" } })).field, "sandboxPolicy");
});
