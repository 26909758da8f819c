import { createHash } from "node:crypto";
// The patch module alone: the package index loads every diff flavour.
import { structuredPatch } from "diff/lib/patch/create.js";

/**
 * The hunks of a unified diff from `oldText` to `newText` (no file headers), with `context` lines of
 * context. Ranges are written as GNU diff and git do: a one-line range is `@@ -3 +3 @@`, an empty one
 * `-2,0`. Returns "" when the texts are equal.
 */
export function unifiedHunks(oldText: string, newText: string, context: number): string {
  if (oldText === newText) return "";
  const patch = structuredPatch("a", "b", oldText, newText, undefined, undefined, { context });
  let out = "";
  for (const h of patch.hunks) {
    out += `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@\n`;
    for (const line of h.lines) out += `${line}\n`;
  }
  return out;
}

function range(start: number, count: number): string {
  if (count === 1) return String(start);
  // An empty range names the line before it; jsdiff reports it one higher.
  return count === 0 ? `${start - 1},0` : `${start},${count}`;
}

/** Git's blob id of `text` (SHA-1 of `blob <bytes>\0<content>`), for `index` lines. */
export function gitBlobId(text: string): string {
  const body = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${body.length}\0`).update(body).digest("hex");
}
