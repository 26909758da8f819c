/** A parse or apply failure of `apply_patch`; the message is written for the model. */
export class PatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PatchError";
  }
}

/** One `@@` section of an `*** Update File:` block. */
export interface PatchHunk {
  /** Text after `@@ `: a line (usually a class or function header) to seek before matching `oldLines`. */
  context: string | null;
  /** Lines to find (context and `-` lines, prefixes stripped). */
  oldLines: string[];
  /** Lines that replace them (context and `+` lines, prefixes stripped). */
  newLines: string[];
  /** `*** End of File` followed: `oldLines` should match at the end of the file. */
  isEndOfFile: boolean;
}

/** One file operation of a patch. Paths are as written in the patch (relative to the cwd, or absolute). */
export type PatchOp =
  | { kind: "add"; path: string; contents: string }
  | { kind: "delete"; path: string }
  | { kind: "update"; path: string; movePath: string | null; hunks: PatchHunk[] };

const BEGIN_PATCH = "*** Begin Patch";
const END_PATCH = "*** End Patch";
const ADD_FILE = "*** Add File: ";
const DELETE_FILE = "*** Delete File: ";
const UPDATE_FILE = "*** Update File: ";
const MOVE_TO = "*** Move to: ";
const END_OF_FILE = "*** End of File";
const HEREDOC_OPENERS = new Set(["<<EOF", "<<'EOF'", '<<"EOF"']);

/**
 * Parses Codex's apply_patch format:
 *
 * ```
 * *** Begin Patch
 * *** Add File: path        (then lines prefixed "+")
 * *** Delete File: path
 * *** Update File: path
 * *** Move to: new/path     (optional)
 * @@ optional context line
 *  context / -removed / +added lines
 * *** End of File           (optional)
 * *** End Patch
 * ```
 *
 * Like Codex it is lenient: markers may carry surrounding whitespace, the text may be wrapped in a
 * `<<'EOF'` … `EOF` heredoc, blank lines between hunks are skipped, and the first hunk of an update may
 * omit its `@@` line.
 * @throws PatchError describing the first problem, with its line number.
 */
export function parsePatch(text: string): PatchOp[] {
  const lines = text.trim().split(/\r?\n/);
  const body = patchBody(lines);
  const ops: PatchOp[] = [];
  let i = 0;
  while (i < body.length) {
    const { op, consumed } = parseOp(body, i, i + 2);
    ops.push(op);
    i += consumed;
  }
  return ops;
}

/** The lines between the begin and end markers, after unwrapping an optional heredoc. */
function patchBody(lines: string[]): string[] {
  const strictError = boundaryError(lines);
  if (strictError === null) return lines.slice(1, -1);
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (lines.length >= 4 && first !== undefined && HEREDOC_OPENERS.has(first) && last?.endsWith("EOF")) {
    const inner = lines.slice(1, -1);
    if (boundaryError(inner) === null) return inner.slice(1, -1);
  }
  throw new PatchError(strictError);
}

function boundaryError(lines: string[]): string | null {
  const first = lines[0]?.trim();
  const last = lines[lines.length - 1]?.trim();
  if (first !== BEGIN_PATCH) return "invalid patch: The first line of the patch must be '*** Begin Patch'";
  if (lines.length < 2 || last !== END_PATCH) return "invalid patch: The last line of the patch must be '*** End Patch'";
  return null;
}

function hunkError(lineNumber: number, message: string): PatchError {
  return new PatchError(`invalid hunk at line ${lineNumber}, ${message}`);
}

function requirePath(path: string, lineNumber: number): string {
  const p = path.trim();
  if (p.length === 0) throw hunkError(lineNumber, "the file path is empty");
  return p;
}

/** Parses the file operation starting at `lines[start]`; `lineNumber` is its 1-based line in the patch. */
function parseOp(lines: string[], start: number, lineNumber: number): { op: PatchOp; consumed: number } {
  const header = lines[start]!.trim();

  if (header.startsWith(ADD_FILE)) {
    const path = requirePath(header.slice(ADD_FILE.length), lineNumber);
    let contents = "";
    let i = start + 1;
    while (i < lines.length && lines[i]!.startsWith("+")) {
      contents += `${lines[i]!.slice(1)}\n`;
      i++;
    }
    return { op: { kind: "add", path, contents }, consumed: i - start };
  }

  if (header.startsWith(DELETE_FILE)) {
    return { op: { kind: "delete", path: requirePath(header.slice(DELETE_FILE.length), lineNumber) }, consumed: 1 };
  }

  if (header.startsWith(UPDATE_FILE)) {
    const path = requirePath(header.slice(UPDATE_FILE.length), lineNumber);
    let i = start + 1;
    let movePath: string | null = null;
    const maybeMove = lines[i]?.trim();
    if (maybeMove?.startsWith(MOVE_TO)) {
      movePath = requirePath(maybeMove.slice(MOVE_TO.length), lineNumber + 1);
      i++;
    }
    const hunks: PatchHunk[] = [];
    while (i < lines.length) {
      const line = lines[i]!;
      if (line.trim() === "") {
        i++; // Blank lines between hunks are noise.
        continue;
      }
      if (line.startsWith("*")) break; // Next file operation.
      const { hunk, consumed } = parseHunk(lines, i, lineNumber + (i - start), hunks.length === 0);
      hunks.push(hunk);
      i += consumed;
    }
    if (hunks.length === 0) throw hunkError(lineNumber, `Update file hunk for path '${path}' is empty`);
    return { op: { kind: "update", path, movePath, hunks }, consumed: i - start };
  }

  throw hunkError(
    lineNumber,
    `'${header}' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'`,
  );
}

function parseHunk(
  lines: string[],
  start: number,
  lineNumber: number,
  allowMissingContext: boolean,
): { hunk: PatchHunk; consumed: number } {
  const first = lines[start]!;
  let context: string | null = null;
  let i = start;
  if (first === "@@") {
    i++;
  } else if (first.startsWith("@@ ")) {
    context = first.slice(3);
    i++;
  } else if (!allowMissingContext) {
    throw hunkError(lineNumber, `Expected update hunk to start with a @@ context marker, got: '${first}'`);
  }
  const hunk: PatchHunk = { context, oldLines: [], newLines: [], isEndOfFile: false };
  let changeLines = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === END_OF_FILE) {
      if (changeLines === 0) throw hunkError(lineNumber + (i - start), "Update hunk does not contain any lines");
      hunk.isEndOfFile = true;
      i++;
      break;
    }
    const marker = line[0];
    if (marker === undefined) {
      // An empty line stands for an empty context line.
      hunk.oldLines.push("");
      hunk.newLines.push("");
    } else if (marker === " ") {
      hunk.oldLines.push(line.slice(1));
      hunk.newLines.push(line.slice(1));
    } else if (marker === "+") {
      hunk.newLines.push(line.slice(1));
    } else if (marker === "-") {
      hunk.oldLines.push(line.slice(1));
    } else {
      if (changeLines === 0) {
        throw hunkError(
          lineNumber + (i - start),
          `Unexpected line found in update hunk: '${line}'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)`,
        );
      }
      break; // Start of the next hunk or file operation.
    }
    changeLines++;
  }
  if (changeLines === 0) throw hunkError(lineNumber + 1, "Update hunk does not contain any lines");
  return { hunk, consumed: i - start };
}
