/** Words that need no quoting in a POSIX shell. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Single-quotes `s` for a POSIX shell, writing each `'` as `'\''`. */
export function singleQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Quotes one word only when a POSIX shell would otherwise split or expand it. */
export function quoteWord(s: string): string {
  return SAFE_WORD.test(s) ? s : singleQuote(s);
}

/** Joins argv into one shell-safe command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(quoteWord).join(" ");
}

/**
 * Splits a shell script into words when it is one simple command: quotes and backslashes are
 * honoured; anything that needs a shell to interpret (pipes, lists, redirections, substitutions,
 * variables, globs, comments, newlines, leading `VAR=` assignments) makes it return null.
 */
export function splitSimpleCommand(script: string): string[] | null {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const s = script.trim();
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return null;
      word += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const d = s[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "$" || d === "`") return null;
        if (d === "\\" && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) {
          word += s[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) return null;
      inWord = true;
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= s.length || s[i + 1] === "\n") return null;
      word += s[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if ("|&;<>()`$\n\r*?[{}".includes(c)) return null;
    if (c === "#" && !inWord) return null;
    if (c === "~" && !inWord) return null;
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  if (words.length === 0) return null;
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) return null;
  return words;
}
