/**
 * NATS subject rules, checked before anything is sent, so that a subject NATS would reject or treat
 * differently (a subscription that silently never matches) fails at the call instead. Tokens are
 * separated by `.`, never empty, never contain whitespace; `*` matches one token and `>` (last token
 * only) one or more.
 */

const DOT = 46;
const STAR = 42;
const GT = 62;

function invalidSubject(subject: string): Error {
  return new Error(`invalid subject: ${JSON.stringify(subject)}`);
}

function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) return true;
  }
  return false;
}

/** A subject a message can be published to: no empty tokens, no whitespace, no wildcard tokens. */
export function assertPublishSubject(subject: string): void {
  // One pass without allocating: this runs on every publish.
  let tokenStart = 0;
  for (let i = 0; i <= subject.length; i++) {
    const c = i === subject.length ? DOT : subject.charCodeAt(i);
    if (c === DOT) {
      const len = i - tokenStart;
      const first = subject.charCodeAt(tokenStart);
      if (len === 0 || (len === 1 && (first === STAR || first === GT))) throw invalidSubject(subject);
      tokenStart = i + 1;
    } else if (c === 32 || (c >= 9 && c <= 13)) {
      throw invalidSubject(subject);
    }
  }
}

/** Parses a subscription subject into tokens; throws on an invalid one. */
export function parsePattern(pattern: string): string[] {
  const tokens = pattern.split(".");
  const bad =
    pattern.length === 0 ||
    hasWhitespace(pattern) ||
    tokens.some((t, i) => t.length === 0 || (t === ">" && i !== tokens.length - 1));
  if (bad) throw new Error(`invalid subscription subject: ${JSON.stringify(pattern)}`);
  return tokens;
}

export function isWildcardPattern(tokens: readonly string[]): boolean {
  return tokens.some((t) => t === "*" || t === ">");
}

/** Whether a subject (already split into tokens) matches a parsed pattern. */
export function matchesPattern(pattern: readonly string[], subject: readonly string[]): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return subject.length === n;
}
