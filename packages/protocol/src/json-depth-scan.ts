/** What {@link scanJsonDepth} learnt about a frame without parsing it. */
export interface DepthScan {
  /** Arrays and objects nest deeper than the limit somewhere in the frame. */
  tooDeep: boolean;
  /** Source text of the value of the top-level object's last `"id"` member, when it is a string or number literal. */
  idRaw: string | undefined;
  /** The top-level object has a `"method"` member whose value is a string. */
  hasMethod: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * One linear pass over a JSON text that measures nesting depth (strings and escapes respected) and
 * picks the top-level `id` and `method` members, so that a frame too deep to parse can still be
 * answered with its id. Strings are skipped with `indexOf`, so long strings cost little. Never throws;
 * on malformed text the result is best effort and JSON.parse reports the error.
 */
export function scanJsonDepth(text: string, maxDepth: number): DepthScan {
  let depth = 0;
  let tooDeep = false;
  let idRaw: string | undefined;
  let hasMethod = false;
  // Top-level object members: the key just read, and whether its value comes next.
  let expectKey = false;
  let key: string | undefined;
  let valueNext = false;
  const n = text.length;
  const objectFrame = topIsObject(text);
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1 && objectFrame) {
        if (expectKey) {
          key = keyName(text, i, end);
          expectKey = false;
        } else if (valueNext) {
          if (key === "id") idRaw = text.slice(i, end + 1);
          else if (key === "method") hasMethod = true;
          valueNext = false;
        }
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 1 && valueNext) {
        if (key === "method") hasMethod = false;
        if (key === "id") idRaw = undefined;
        valueNext = false;
      }
      depth++;
      if (depth > maxDepth) tooDeep = true;
      if (depth === 1) expectKey = c === OPEN_BRACE;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (depth === 1) {
      if (c === COMMA) expectKey = true;
      else if (c === COLON) valueNext = true;
      else if (valueNext && c > 0x20) {
        // A number or literal: up to the next delimiter.
        let j = i;
        while (j < n && !isDelimiter(text.charCodeAt(j))) j++;
        if (key === "id") idRaw = text.slice(i, j);
        else if (key === "method") hasMethod = false;
        valueNext = false;
        i = j;
        continue;
      }
    }
    i++;
  }
  return { tooDeep, idRaw, hasMethod };
}

/** Index of the quote closing the string opening at `start` (or the text's end when unterminated). */
function stringEnd(text: string, start: number): number {
  let q = start;
  for (;;) {
    q = text.indexOf('"', q + 1);
    if (q < 0) return text.length;
    let backslashes = 0;
    for (let k = q - 1; k > start && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
}

/** A member name; escaped names are decoded when short (`"\u0069d"` is `id`). */
function keyName(text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start + 1, end);
  if (raw.indexOf("\\") < 0) return raw;
  if (raw.length > 64) return undefined;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

function topIsObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x20) return c === OPEN_BRACE;
  }
  return false;
}

function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c <= 0x20;
}
