import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chownSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PatchError } from "../src/tools/apply-patch.ts";
import { applyResolvedAs } from "../src/tools/patch-writer.ts";
import { hostIsRoot, sandboxUserFor } from "../src/sandbox/sandbox-user.ts";

const user = sandboxUserFor("patch-writer-test");

describe("patch writes as the sandbox's user", { skip: hostIsRoot() ? false : "needs a root host (CI runs as root)" }, () => {
  test("writes inside a directory the user owns, and the files are the user's", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tm-patch-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chownSync(dir, user.uid, user.gid);
    const path = join(dir, "sub", "a.txt");
    await applyResolvedAs([{ path, movePath: null, kind: { type: "add" }, oldContent: null, newContent: "hello\n" }], user);
    assert.equal(readFileSync(path, "utf8"), "hello\n");
    assert.equal(statSync(path).uid, user.uid);
    assert.equal(statSync(join(dir, "sub")).uid, user.uid);
  });

  test("a path that leads through a symlink to a root-owned directory writes nothing there", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tm-patch-"));
    const hostDir = mkdtempSync(join(tmpdir(), "tm-host-"));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(hostDir, { recursive: true, force: true });
    });
    chownSync(dir, user.uid, user.gid);
    writeFileSync(join(hostDir, "secret"), "root's\n");
    // What a sandboxed command could plant after the patch was checked.
    symlinkSync(hostDir, join(dir, "link"));
    const add = { path: join(dir, "link", "planted"), movePath: null, kind: { type: "add" as const }, oldContent: null, newContent: "x" };
    await assert.rejects(applyResolvedAs([add], user), (err: unknown) => err instanceof PatchError && /EACCES|permission denied/i.test(err.message));
    const update = { path: join(dir, "link", "secret"), movePath: null, kind: { type: "update" as const, move_path: null }, oldContent: "root's\n", newContent: "changed\n" };
    await assert.rejects(applyResolvedAs([update], user), PatchError);
    assert.equal(readFileSync(join(hostDir, "secret"), "utf8"), "root's\n");
    assert.throws(() => statSync(join(hostDir, "planted")));
  });
});
