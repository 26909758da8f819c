import { chmod, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { FileUpdateChange, PatchChangeKind } from "@threadmesh/protocol";
import { chownLikeParent } from "../sandbox/workspace-owner.ts";
import { PatchError, type PatchHunk, type PatchOp } from "./patch-parser.ts";
import { seekSequence } from "./seek-sequence.ts";
import { unifiedHunks } from "./unified-diff.ts";

export { PatchError, parsePatch } from "./patch-parser.ts";
export type { PatchHunk, PatchOp } from "./patch-parser.ts";

/** One file change of a patch, checked against the files on disk and ready to apply. */
export interface ResolvedChange {
  /** Absolute path of the file the operation names. */
  path: string;
  /** Absolute destination of a move, else null. */
  movePath: string | null;
  kind: PatchChangeKind;
  /** Content before this change; null for an added file. */
  oldContent: string | null;
  /** Content after this change (at `movePath` for a move); null for a deleted file. */
  newContent: string | null;
}

/** Context lines around each change in `fileChange` diffs; Codex uses 1. */
const FILE_CHANGE_DIFF_CONTEXT = 1;

/**
 * Resolves every operation against the current files under `cwd` without writing anything: reads the
 * files, locates each hunk (exactly, then tolerating whitespace and typographic punctuation) and computes
 * the new contents. Operations apply in order, so a later one sees the result of an earlier one on the
 * same file. CRLF files keep CRLF line endings, and updated files always end with a newline.
 * @throws PatchError when a file is missing, a hunk's context cannot be found, an added file or a move
 *   destination already exists, or the patch is empty.
 */
export async function resolvePatch(ops: PatchOp[], cwd: string): Promise<ResolvedChange[]> {
  if (ops.length === 0) throw new PatchError("No files were modified.");
  const files = new VirtualFiles();
  const changes: ResolvedChange[] = [];
  for (const op of ops) {
    const path = resolve(cwd, op.path);
    switch (op.kind) {
      case "add": {
        if ((await files.read(path)) !== null) throw new PatchError(`Cannot add ${op.path}: the file already exists`);
        files.set(path, op.contents);
        changes.push({ path, movePath: null, kind: { type: "add" }, oldContent: null, newContent: op.contents });
        break;
      }
      case "delete": {
        const old = await files.read(path);
        if (old === null) throw new PatchError(`Failed to delete file ${op.path}: No such file or directory`);
        files.set(path, null);
        changes.push({ path, movePath: null, kind: { type: "delete" }, oldContent: old, newContent: null });
        break;
      }
      case "update": {
        const old = await files.read(path);
        if (old === null) throw new PatchError(`Failed to read file to update ${op.path}: No such file or directory`);
        const next = applyHunks(old, op.hunks, op.path);
        let movePath = op.movePath === null ? null : resolve(cwd, op.movePath);
        if (movePath === path) movePath = null;
        if (movePath !== null) {
          if ((await files.read(movePath)) !== null) throw new PatchError(`Cannot move ${op.path} to ${op.movePath}: the destination already exists`);
          files.set(path, null);
          files.set(movePath, next);
        } else {
          files.set(path, next);
        }
        changes.push({ path, movePath, kind: { type: "update", move_path: movePath }, oldContent: old, newContent: next });
        break;
      }
    }
  }
  return changes;
}

/**
 * The wire form for `fileChange.changes`: updates carry unified hunks (`@@ -1 +1 @@\n-a\n+b\n`),
 * adds the new content, deletes the old content. Paths stay absolute.
 */
export function toFileUpdateChanges(changes: ResolvedChange[]): FileUpdateChange[] {
  return changes.map((c) => {
    switch (c.kind.type) {
      case "add":
        return { path: c.path, kind: c.kind, diff: c.newContent ?? "" };
      case "delete":
        return { path: c.path, kind: c.kind, diff: c.oldContent ?? "" };
      case "update":
        return { path: c.path, kind: c.kind, diff: unifiedHunks(c.oldContent ?? "", c.newContent ?? "", FILE_CHANGE_DIFF_CONTEXT) };
    }
  });
}

/**
 * Writes resolved changes in order: adds create parent directories, deletes unlink, moves write the
 * destination (keeping the file mode) and remove the source. Not atomic across files.
 * @throws PatchError naming the file that could not be written.
 */
export async function applyResolved(changes: ResolvedChange[]): Promise<void> {
  for (const c of changes) {
    try {
      if (c.kind.type === "delete") {
        await unlink(c.path);
      } else if (c.movePath !== null) {
        const { mode } = await stat(c.path);
        await writeOwned(c.movePath, c.newContent ?? "");
        await chmod(c.movePath, mode & 0o7777);
        await unlink(c.path);
      } else {
        await writeOwned(c.path, c.newContent ?? "");
      }
    } catch (err) {
      throw new PatchError(`Failed to write ${c.movePath ?? c.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * Writes `content` to `path`, creating missing parent directories. What this creates takes the owner of
 * the directory it is created in, so files the host writes into a sandbox user's workspace stay
 * writable by that user's commands.
 */
async function writeOwned(path: string, content: string): Promise<void> {
  const firstCreated = await mkdir(dirname(path), { recursive: true });
  if (firstCreated !== undefined) {
    const created: string[] = [];
    for (let d = dirname(path); d.length >= firstCreated.length; d = dirname(d)) created.unshift(d);
    for (const d of created) await chownLikeParent(d);
  }
  await writeFile(path, content);
  await chownLikeParent(path);
}

/** Every absolute path a set of changes writes, creates or removes (moves count both ends), without duplicates. */
export function touchedPaths(changes: ResolvedChange[]): string[] {
  const paths = new Set<string>();
  for (const c of changes) {
    paths.add(c.path);
    if (c.movePath !== null) paths.add(c.movePath);
  }
  return [...paths];
}

/** Disk contents overlaid with the effects of the operations resolved so far. */
class VirtualFiles {
  private readonly overlay = new Map<string, string | null>();

  async read(path: string): Promise<string | null> {
    if (this.overlay.has(path)) return this.overlay.get(path)!;
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      if (code === "EISDIR") throw new PatchError(`${path} is a directory, not a file`);
      throw new PatchError(`Failed to read ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  set(path: string, content: string | null): void {
    this.overlay.set(path, content);
  }
}

/** The new content of a file after its hunks, following Codex's matching and newline rules. */
export function applyHunks(original: string, hunks: PatchHunk[], displayPath: string): string {
  // A file whose every newline is CRLF is edited as LF and written back as CRLF.
  const crlf = original.includes("\r\n") && !/(^|[^\r])\n/.test(original);
  const text = crlf ? original.replaceAll("\r\n", "\n") : original;

  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop(); // The final newline is not a line.

  const replacements: Array<{ at: number; remove: number; insert: string[] }> = [];
  let cursor = 0;
  for (const hunk of hunks) {
    if (hunk.context !== null) {
      const at = seekSequence(lines, [hunk.context], cursor, false);
      if (at < 0) throw new PatchError(`Failed to find context '${hunk.context}' in ${displayPath}`);
      cursor = at + 1;
    }
    if (hunk.oldLines.length === 0) {
      // Pure additions go at the end of the file (before a trailing blank line), as in Codex.
      const at = lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
      replacements.push({ at, remove: 0, insert: hunk.newLines });
      continue;
    }
    let pattern = hunk.oldLines;
    let insert = hunk.newLines;
    let at = seekSequence(lines, pattern, cursor, hunk.isEndOfFile);
    if (at < 0 && pattern[pattern.length - 1] === "") {
      // A trailing empty line in the hunk usually stands for the final newline; retry without it.
      pattern = pattern.slice(0, -1);
      if (insert[insert.length - 1] === "") insert = insert.slice(0, -1);
      at = seekSequence(lines, pattern, cursor, hunk.isEndOfFile);
    }
    if (at < 0) {
      throw new PatchError(`Failed to find expected lines in ${displayPath}:\n${hunk.oldLines.join("\n")}`);
    }
    replacements.push({ at, remove: pattern.length, insert });
    cursor = at + pattern.length;
  }

  replacements.sort((a, b) => a.at - b.at);
  const out: string[] = [];
  let next = 0;
  for (const r of replacements) {
    if (r.at < next) throw new PatchError(`Overlapping hunks in ${displayPath}`);
    out.push(...lines.slice(next, r.at), ...r.insert);
    next = r.at + r.remove;
  }
  out.push(...lines.slice(next));
  if (out[out.length - 1] !== "") out.push("");
  const result = out.join("\n");
  return crlf ? result.replaceAll("\n", "\r\n") : result;
}
