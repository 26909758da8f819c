import { relative } from "node:path";
import type { ResolvedChange } from "./apply-patch.ts";
import { gitBlobId, unifiedHunks } from "./unified-diff.ts";

/** Context lines per hunk in the aggregated diff, git's default. */
const TURN_DIFF_CONTEXT = 3;
const NULL_BLOB = "0000000";
const REGULAR_FILE_MODE = "100644";

/** One file's history within the turn; a move carries it to a new path. */
interface TrackedFile {
  originalPath: string;
  /** Content before the turn first touched the file; null when it did not exist. */
  baseline: string | null;
  currentPath: string;
  /** Content now; null when it no longer exists. */
  current: string | null;
}

/**
 * Accumulates the file changes of one turn and renders them as one git-style diff for
 * `turn/diff/updated`. The baseline of each file is its content before the first change of the turn,
 * so repeated edits collapse into one entry and a change that is undone disappears.
 */
export class TurnDiffTracker {
  private readonly files: TrackedFile[] = [];
  private readonly byCurrentPath = new Map<string, TrackedFile>();

  /** Records applied changes, in the order they were applied. */
  record(changes: ResolvedChange[]): void {
    for (const c of changes) {
      const file = this.track(c.path, c.oldContent);
      if (c.movePath === null) {
        file.current = c.newContent;
        continue;
      }
      const destination = this.byCurrentPath.get(c.movePath);
      if (destination) {
        // The destination already has a history this turn (it was deleted earlier): show the move as
        // an edit of the destination plus a deletion of the source rather than as a rename.
        destination.current = c.newContent;
        file.current = null;
        continue;
      }
      this.byCurrentPath.delete(c.path);
      file.currentPath = c.movePath;
      file.current = c.newContent;
      this.byCurrentPath.set(c.movePath, file);
    }
  }

  /**
   * The turn's changes as a git diff (`diff --git a/x b/x` headers, `new file mode`, `deleted file mode`,
   * `rename from/to`, `index` lines with git blob ids, `---`/`+++` and hunks), paths relative to `root`,
   * files sorted by path. Empty when the turn changed nothing.
   */
  unifiedDiff(root: string): string {
    const sections: Array<{ key: string; text: string }> = [];
    for (const f of this.files) {
      const oldName = relative(root, f.originalPath);
      const newName = relative(root, f.currentPath);
      if (f.baseline === null && f.current === null) continue;
      if (f.baseline === f.current && oldName === newName) continue;
      if (f.baseline === null) {
        sections.push({ key: newName, text: renderAdd(newName, f.current!) });
      } else if (f.current === null) {
        sections.push({ key: oldName, text: renderDelete(oldName, f.baseline) });
      } else {
        sections.push({ key: newName, text: renderModify(oldName, newName, f.baseline, f.current) });
      }
    }
    sections.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return sections.map((s) => s.text).join("");
  }

  private track(path: string, oldContent: string | null): TrackedFile {
    const known = this.byCurrentPath.get(path);
    if (known) return known;
    const file: TrackedFile = { originalPath: path, baseline: oldContent, currentPath: path, current: oldContent };
    this.files.push(file);
    this.byCurrentPath.set(path, file);
    return file;
  }
}

function short(text: string): string {
  return gitBlobId(text).slice(0, 7);
}

function renderAdd(name: string, content: string): string {
  let out = `diff --git a/${name} b/${name}\nnew file mode ${REGULAR_FILE_MODE}\nindex ${NULL_BLOB}..${short(content)}\n`;
  const hunks = unifiedHunks("", content, TURN_DIFF_CONTEXT);
  if (hunks) out += `--- /dev/null\n+++ b/${name}\n${hunks}`;
  return out;
}

function renderDelete(name: string, content: string): string {
  let out = `diff --git a/${name} b/${name}\ndeleted file mode ${REGULAR_FILE_MODE}\nindex ${short(content)}..${NULL_BLOB}\n`;
  const hunks = unifiedHunks(content, "", TURN_DIFF_CONTEXT);
  if (hunks) out += `--- a/${name}\n+++ /dev/null\n${hunks}`;
  return out;
}

function renderModify(oldName: string, newName: string, before: string, after: string): string {
  let out = `diff --git a/${oldName} b/${newName}\n`;
  if (oldName !== newName) out += `rename from ${oldName}\nrename to ${newName}\n`;
  if (before !== after) {
    out += `index ${short(before)}..${short(after)} ${REGULAR_FILE_MODE}\n`;
    out += `--- a/${oldName}\n+++ b/${newName}\n${unifiedHunks(before, after, TURN_DIFF_CONTEXT)}`;
  }
  return out;
}
