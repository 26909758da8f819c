/** Typographic characters folded to ASCII in the most lenient matching pass. */
const PUNCTUATION_FOLD: Record<string, string> = {
  "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
  "\u2018": "'", "\u2019": "'", "\u201A": "'", "\u201B": "'",
  "\u201C": '"', "\u201D": '"', "\u201E": '"', "\u201F": '"',
  "\u00A0": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ", "\u2007": " ",
  "\u2008": " ", "\u2009": " ", "\u200A": " ", "\u202F": " ", "\u205F": " ", "\u3000": " ",
};
const FOLDABLE = new RegExp(`[${Object.keys(PUNCTUATION_FOLD).join("")}]`, "g");

const trimEnd = (s: string) => s.trimEnd();
const trimBoth = (s: string) => s.trim();
const fold = (s: string) => s.trim().replace(FOLDABLE, (c) => PUNCTUATION_FOLD[c] ?? c);

/** Matching passes from strictest to most lenient, as Codex's apply_patch tries them. */
const PASSES: ReadonlyArray<((s: string) => string) | null> = [null, trimEnd, trimBoth, fold];

/**
 * Index of the first occurrence of `pattern` in `lines` at or after `start`, or -1.
 * Tries an exact match, then ignoring trailing whitespace, then ignoring surrounding whitespace, then
 * also folding typographic dashes, quotes and spaces to ASCII. With `eof` the search first tries the
 * last possible position (the pattern is meant to end the file), then falls back to `start`. Matches never
 * begin before `start`.
 * An empty pattern matches at `start`.
 */
export function seekSequence(lines: readonly string[], pattern: readonly string[], start: number, eof: boolean): number {
  if (pattern.length === 0) return start;
  if (pattern.length > lines.length) return -1;
  const last = lines.length - pattern.length;
  const origins = eof && last > start ? [last, start] : [start];
  for (const origin of origins) {
    for (const normalise of PASSES) {
      for (let i = origin; i <= last; i++) {
        if (matchesAt(lines, pattern, i, normalise)) return i;
      }
    }
  }
  return -1;
}

function matchesAt(lines: readonly string[], pattern: readonly string[], at: number, normalise: ((s: string) => string) | null): boolean {
  for (let j = 0; j < pattern.length; j++) {
    const a = lines[at + j]!;
    const b = pattern[j]!;
    if (normalise === null ? a !== b : normalise(a) !== normalise(b)) return false;
  }
  return true;
}
