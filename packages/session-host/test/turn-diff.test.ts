import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyResolved, parsePatch, resolvePatch } from "../src/tools/apply-patch.ts";
import { TurnDiffTracker } from "../src/tools/turn-diff.ts";

function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), "tm-turndiff-"));
  process.on("exit", () => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Applies a patch body and records it, as the thread actor does after each apply_patch call. */
async function step(tracker: TurnDiffTracker, cwd: string, body: string): Promise<void> {
  const changes = await resolvePatch(parsePatch(`*** Begin Patch\n${body}\n*** End Patch`), cwd);
  await applyResolved(changes);
  tracker.record(changes);
}

test("an empty turn has an empty diff", () => {
  assert.equal(new TurnDiffTracker().unifiedDiff("/"), "");
});

// Blob ids below were checked with `git hash-object`.
test("repeated edits of one file diff against the content before the first edit", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "x.txt"), "hello\n");
  const tracker = new TurnDiffTracker();
  await step(tracker, cwd, "*** Update File: x.txt\n@@\n-hello\n+hello world");
  await step(tracker, cwd, "*** Update File: x.txt\n@@\n hello world\n+again");
  assert.equal(
    tracker.unifiedDiff(cwd),
    [
      "diff --git a/x.txt b/x.txt",
      "index ce01362..a29211c 100644",
      "--- a/x.txt",
      "+++ b/x.txt",
      "@@ -1 +1,2 @@",
      "-hello",
      "+hello world",
      "+again",
      "",
    ].join("\n"),
  );
});

test("adds, deletes and edits are aggregated into one git diff sorted by path", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "b.txt"), "bye\n");
  writeFileSync(join(cwd, "c.txt"), "1\n2\n3\n");
  const tracker = new TurnDiffTracker();
  await step(tracker, cwd, "*** Delete File: b.txt\n*** Add File: a/new.txt\n+fresh");
  await step(tracker, cwd, "*** Update File: c.txt\n@@\n 1\n-2\n+two\n 3");
  await step(tracker, cwd, "*** Add File: empty.txt");
  assert.equal(
    tracker.unifiedDiff(cwd),
    [
      "diff --git a/a/new.txt b/a/new.txt",
      "new file mode 100644",
      "index 0000000..92d5444",
      "--- /dev/null",
      "+++ b/a/new.txt",
      "@@ -0,0 +1 @@",
      "+fresh",
      "diff --git a/b.txt b/b.txt",
      "deleted file mode 100644",
      "index b023018..0000000",
      "--- a/b.txt",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-bye",
      "diff --git a/c.txt b/c.txt",
      "index 01e79c3..d8eb098 100644",
      "--- a/c.txt",
      "+++ b/c.txt",
      "@@ -1,3 +1,3 @@",
      " 1",
      "-2",
      "+two",
      " 3",
      "diff --git a/empty.txt b/empty.txt",
      "new file mode 100644",
      "index 0000000..e69de29",
      "",
    ].join("\n"),
  );
});

test("a file added and deleted in the same turn leaves no trace, and an undone edit disappears", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "keep.txt"), "same\n");
  const tracker = new TurnDiffTracker();
  await step(tracker, cwd, "*** Add File: tmp.txt\n+x");
  await step(tracker, cwd, "*** Delete File: tmp.txt");
  await step(tracker, cwd, "*** Update File: keep.txt\n@@\n-same\n+changed");
  await step(tracker, cwd, "*** Update File: keep.txt\n@@\n-changed\n+same");
  assert.equal(tracker.unifiedDiff(cwd), "");
});

test("a moved file shows as a rename with its content change", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "old.txt"), "a\nb\n");
  const tracker = new TurnDiffTracker();
  await step(tracker, cwd, "*** Update File: old.txt\n*** Move to: dir/new.txt\n@@\n a\n-b\n+B");
  assert.equal(
    tracker.unifiedDiff(cwd),
    [
      "diff --git a/old.txt b/dir/new.txt",
      "rename from old.txt",
      "rename to dir/new.txt",
      "index 422c2b7..55dce13 100644",
      "--- a/old.txt",
      "+++ b/dir/new.txt",
      "@@ -1,2 +1,2 @@",
      " a",
      "-b",
      "+B",
      "",
    ].join("\n"),
  );
});

test("a file recreated after deletion diffs against its original content", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "r.txt"), "v1\n");
  const tracker = new TurnDiffTracker();
  await step(tracker, cwd, "*** Delete File: r.txt");
  await step(tracker, cwd, "*** Add File: r.txt\n+v2");
  assert.match(tracker.unifiedDiff(cwd), /^diff --git a\/r.txt b\/r.txt\nindex [0-9a-f]{7}\.\.[0-9a-f]{7} 100644\n--- a\/r.txt\n\+\+\+ b\/r.txt\n@@ -1 \+1 @@\n-v1\n\+v2\n$/);
});
