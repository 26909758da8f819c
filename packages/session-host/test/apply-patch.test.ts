import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applyResolved,
  parsePatch,
  PatchError,
  resolvePatch,
  toFileUpdateChanges,
  touchedPaths,
} from "../src/tools/apply-patch.ts";

function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), "tm-patch-"));
  process.on("exit", () => rmSync(d, { recursive: true, force: true }));
  return d;
}

function patch(body: string): string {
  return `*** Begin Patch\n${body}\n*** End Patch`;
}

async function applyText(cwd: string, text: string) {
  const changes = await resolvePatch(parsePatch(text), cwd);
  await applyResolved(changes);
  return changes;
}

test("parses add, delete and update-with-move operations", () => {
  const ops = parsePatch(
    patch(
      [
        "*** Add File: path/add.py",
        "+abc",
        "+def",
        "*** Delete File: path/delete.py",
        "*** Update File: path/update.py",
        "*** Move to: path/update2.py",
        "@@ def f():",
        "-    pass",
        "+    return 123",
      ].join("\n"),
    ),
  );
  assert.deepEqual(ops, [
    { kind: "add", path: "path/add.py", contents: "abc\ndef\n" },
    { kind: "delete", path: "path/delete.py" },
    {
      kind: "update",
      path: "path/update.py",
      movePath: "path/update2.py",
      hunks: [{ context: "def f():", oldLines: ["    pass"], newLines: ["    return 123"], isEndOfFile: false }],
    },
  ]);
});

test("parsing accepts a heredoc wrapper, surrounding whitespace and a first hunk without @@", () => {
  const ops = parsePatch("<<'EOF'\n*** Begin Patch  \n*** Update File: a.txt\n import foo\n+bar\n *** End Patch\nEOF\n");
  assert.deepEqual(ops, [
    { kind: "update", path: "a.txt", movePath: null, hunks: [{ context: null, oldLines: ["import foo"], newLines: ["import foo", "bar"], isEndOfFile: false }] },
  ]);
});

test("parse errors explain what is wrong", () => {
  assert.throws(() => parsePatch("bad"), { name: "PatchError", message: "invalid patch: The first line of the patch must be '*** Begin Patch'" });
  assert.throws(() => parsePatch("*** Begin Patch\nbad"), /The last line of the patch must be '\*\*\* End Patch'/);
  assert.throws(() => parsePatch(patch("*** Update File: a.txt")), /invalid hunk at line 2, Update file hunk for path 'a.txt' is empty/);
  assert.throws(() => parsePatch(patch("*** Frobnicate File: a.txt")), /is not a valid hunk header/);
  assert.throws(() => parsePatch(patch("*** Update File: a.txt\n@@\n-a\n+b\n@@\nbad")), /Unexpected line found in update hunk/);
  assert.throws(() => parsePatch(patch("*** Add File:   ")), PatchError);
});

test("add creates the file and its parent directories", async () => {
  const cwd = workdir();
  const changes = await applyText(cwd, patch("*** Add File: src/deep/hello.txt\n+hello\n+world"));
  assert.equal(readFileSync(join(cwd, "src/deep/hello.txt"), "utf8"), "hello\nworld\n");
  assert.deepEqual(toFileUpdateChanges(changes), [{ path: join(cwd, "src/deep/hello.txt"), kind: { type: "add" }, diff: "hello\nworld\n" }]);
});

test("update rewrites the file and reports a unified hunk", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "x.txt"), "hello\n");
  const changes = await applyText(cwd, patch("*** Update File: x.txt\n@@\n-hello\n+hello world"));
  assert.equal(readFileSync(join(cwd, "x.txt"), "utf8"), "hello world\n");
  assert.deepEqual(toFileUpdateChanges(changes), [
    { path: join(cwd, "x.txt"), kind: { type: "update", move_path: null }, diff: "@@ -1 +1 @@\n-hello\n+hello world\n" },
  ]);
  assert.equal(changes[0]!.oldContent, "hello\n");
});

test("delete removes the file and reports its old content", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "gone.txt"), "bye\n");
  const changes = await applyText(cwd, patch("*** Delete File: gone.txt"));
  assert.equal(existsSync(join(cwd, "gone.txt")), false);
  assert.deepEqual(toFileUpdateChanges(changes), [{ path: join(cwd, "gone.txt"), kind: { type: "delete" }, diff: "bye\n" }]);
});

test("move writes the destination, removes the source and keeps the file mode", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "old.sh"), "#!/bin/sh\necho old\n");
  chmodSync(join(cwd, "old.sh"), 0o755);
  const changes = await applyText(cwd, patch("*** Update File: old.sh\n*** Move to: bin/new.sh\n@@\n #!/bin/sh\n-echo old\n+echo new"));
  assert.equal(existsSync(join(cwd, "old.sh")), false);
  assert.equal(readFileSync(join(cwd, "bin/new.sh"), "utf8"), "#!/bin/sh\necho new\n");
  assert.equal(statSync(join(cwd, "bin/new.sh")).mode & 0o777, 0o755);
  assert.deepEqual(toFileUpdateChanges(changes), [
    {
      path: join(cwd, "old.sh"),
      kind: { type: "update", move_path: join(cwd, "bin/new.sh") },
      diff: "@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo old\n+echo new\n",
    },
  ]);
  assert.deepEqual(touchedPaths(changes), [join(cwd, "old.sh"), join(cwd, "bin/new.sh")]);
});

test("multiple hunks apply in order, located by their @@ context lines", async () => {
  const cwd = workdir();
  const original = ["class A:", "    def f(self):", "        return 1", "", "class B:", "    def f(self):", "        return 1", ""].join("\n");
  writeFileSync(join(cwd, "m.py"), original);
  await applyText(
    cwd,
    patch(["*** Update File: m.py", "@@ class A:", "     def f(self):", "-        return 1", "+        return 2", "@@ class B:", "     def f(self):", "-        return 1", "+        return 3"].join("\n")),
  );
  assert.equal(
    readFileSync(join(cwd, "m.py"), "utf8"),
    ["class A:", "    def f(self):", "        return 2", "", "class B:", "    def f(self):", "        return 3", ""].join("\n"),
  );
});

test("hunks that skip @@ lines, add at the end and use *** End of File work like Codex", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "i.txt"), "a\nb\nc\nd\ne\nf\n");
  await applyText(cwd, patch("*** Update File: i.txt\n@@\n a\n-b\n+B\n@@\n c\n d\n-e\n+E\n@@\n f\n+g\n*** End of File"));
  assert.equal(readFileSync(join(cwd, "i.txt"), "utf8"), "a\nB\nc\nd\nE\nf\ng\n");
});

test("context is matched ignoring whitespace and typographic punctuation when needed", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "w.py"), "def f():\n    x = 1   \n\ty = 2\n# local import \u2013 avoids top\u2011level dep\n");
  await applyText(cwd, patch("*** Update File: w.py\n@@\n-x = 1\n-  y = 2\n+    x = 10\n+    y = 20\n@@\n-# local import - avoids top-level dep\n+# ascii"));
  assert.equal(readFileSync(join(cwd, "w.py"), "utf8"), "def f():\n    x = 10\n    y = 20\n# ascii\n");
});

test("CRLF files keep CRLF line endings", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "win.txt"), "one\r\ntwo\r\n");
  await applyText(cwd, patch("*** Update File: win.txt\n@@\n one\n-two\n+2"));
  assert.equal(readFileSync(join(cwd, "win.txt"), "utf8"), "one\r\n2\r\n");
});

test("a context mismatch is a PatchError and nothing is written", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "c.txt"), "foo\nbar\n");
  await assert.rejects(resolvePatch(parsePatch(patch("*** Update File: c.txt\n@@\n-nonexistent\n+replacement")), cwd), {
    name: "PatchError",
    message: "Failed to find expected lines in c.txt:\nnonexistent",
  });
  await assert.rejects(resolvePatch(parsePatch(patch("*** Update File: c.txt\n@@ missing_fn()\n-bar\n+baz")), cwd), /Failed to find context 'missing_fn\(\)' in c.txt/);
  assert.equal(readFileSync(join(cwd, "c.txt"), "utf8"), "foo\nbar\n");
});

test("missing files, adds over existing files and moves onto existing files are refused", async () => {
  const cwd = workdir();
  writeFileSync(join(cwd, "exists.txt"), "x\n");
  writeFileSync(join(cwd, "other.txt"), "y\n");
  await assert.rejects(resolvePatch(parsePatch(patch("*** Update File: nope.txt\n@@\n-a\n+b")), cwd), /Failed to read file to update nope.txt/);
  await assert.rejects(resolvePatch(parsePatch(patch("*** Delete File: nope.txt")), cwd), /Failed to delete file nope.txt/);
  await assert.rejects(resolvePatch(parsePatch(patch("*** Add File: exists.txt\n+new")), cwd), /already exists/);
  await assert.rejects(resolvePatch(parsePatch(patch("*** Update File: exists.txt\n*** Move to: other.txt\n@@\n-x\n+z")), cwd), /destination already exists/);
  mkdirSync(join(cwd, "adir"));
  await assert.rejects(resolvePatch(parsePatch(patch("*** Delete File: adir")), cwd), /is a directory/);
  await assert.rejects(resolvePatch([], cwd), /No files were modified/);
});

test("later operations see earlier ones on the same file", async () => {
  const cwd = workdir();
  const changes = await applyText(cwd, patch("*** Add File: n.txt\n+one\n*** Update File: n.txt\n@@\n one\n+two"));
  assert.equal(readFileSync(join(cwd, "n.txt"), "utf8"), "one\ntwo\n");
  assert.equal(changes[1]!.oldContent, "one\n");
  assert.deepEqual(touchedPaths(changes), [join(cwd, "n.txt")]);
});

test("absolute paths in a patch are used as they are", async () => {
  const cwd = workdir();
  const elsewhere = workdir();
  const changes = await applyText(cwd, patch(`*** Add File: ${join(elsewhere, "abs.txt")}\n+abs`));
  assert.equal(changes[0]!.path, join(elsewhere, "abs.txt"));
  assert.equal(readFileSync(join(elsewhere, "abs.txt"), "utf8"), "abs\n");
});
