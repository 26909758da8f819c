import { basename } from "node:path";
import type { CommandAction } from "@threadmesh/protocol";
import { shellJoin, splitSimpleCommand } from "./shell-quote.ts";

const SHELLS = new Set(["bash", "sh", "zsh", "dash"]);

/** Flags that consume the following word when written separately (`-e PATTERN`, `--glob GLOB`). */
const VALUE_FLAGS: Record<string, ReadonlySet<string>> = {
  rg: new Set([
    "-e", "--regexp", "-f", "--file", "-g", "--glob", "--iglob", "-t", "--type", "-T", "--type-not", "--type-add",
    "-A", "--after-context", "-B", "--before-context", "-C", "--context", "-m", "--max-count", "-d", "--max-depth",
    "--maxdepth", "-j", "--threads", "-M", "--max-columns", "-E", "--encoding", "-r", "--replace", "--sort",
    "--sortr", "--pre", "--ignore-file", "--max-filesize", "--colors", "--path-separator",
  ]),
  grep: new Set(["-e", "--regexp", "-f", "--file", "-A", "-B", "-C", "-m", "-d", "-D", "--include", "--exclude", "--exclude-dir", "--label"]),
  ls: new Set(["-I", "--ignore", "-w", "--width", "-T", "--tabsize", "--hide"]),
  head: new Set(["-n", "-c", "--lines", "--bytes"]),
  tail: new Set(["-n", "-c", "--lines", "--bytes"]),
  nl: new Set(["-b", "-d", "-f", "-h", "-i", "-l", "-n", "-s", "-v", "-w"]),
  cat: new Set(),
};

/**
 * Best-effort description of what a command does, for UIs (`CommandAction[]`).
 * Recognises `cat f`, `sed -n 'A,Bp' f`, `head`/`tail`/`nl` of one file (read), `ls [p]` and
 * `rg --files [p]` (listFiles), `rg`/`grep PATTERN [p]` (search). The script of `bash -lc SCRIPT`
 * (or `-c`, and `sh`/`zsh`/`dash`) is analysed when it is a single simple command. Anything else is
 * one `unknown` action. Paths are reported as written.
 */
export function commandActions(argv: readonly string[]): CommandAction[] {
  const script = shellScript(argv);
  if (script !== null) {
    const words = splitSimpleCommand(script);
    const action = words ? classify(words) : null;
    return [action ?? { type: "unknown", command: script }];
  }
  return [classify(argv) ?? { type: "unknown", command: shellJoin(argv) }];
}

/** The script of `bash -lc SCRIPT` / `sh -c SCRIPT`, else null. */
function shellScript(argv: readonly string[]): string | null {
  if (argv.length !== 3) return null;
  const [shell, flag, script] = argv as [string, string, string];
  if (!SHELLS.has(basename(shell))) return null;
  return flag === "-lc" || flag === "-c" ? script : null;
}

function classify(words: readonly string[]): CommandAction | null {
  if (words.length === 0) return null;
  const program = basename(words[0]!);
  const command = shellJoin(words);
  const rest = words.slice(1);
  switch (program) {
    case "cat":
    case "head":
    case "tail":
    case "nl": {
      const { operands } = splitArgs(rest, VALUE_FLAGS[program]!);
      return operands.length === 1 ? read(command, operands[0]!) : null;
    }
    case "sed": {
      // Only the print-a-range form: sed -n '10,20p' file
      if (rest.length !== 3 || rest[0] !== "-n" || !/^\d+(,\d+)?p$/.test(rest[1]!)) return null;
      return read(command, rest[2]!);
    }
    case "ls": {
      const { operands } = splitArgs(rest, VALUE_FLAGS["ls"]!);
      return { type: "listFiles", command, path: operands[0] ?? null };
    }
    case "rg":
    case "grep": {
      const { operands, flags } = splitArgs(rest, VALUE_FLAGS[program]!);
      if (program === "rg" && flags.some((f) => f.name === "--files")) {
        return { type: "listFiles", command, path: operands[0] ?? null };
      }
      const explicit = flags.find((f) => f.name === "-e" || f.name === "--regexp");
      if (explicit?.value !== undefined) return { type: "search", command, query: explicit.value, path: operands[0] ?? null };
      if (operands.length === 0) return null;
      return { type: "search", command, query: operands[0]!, path: operands[1] ?? null };
    }
    default:
      return null;
  }
}

function read(command: string, path: string): CommandAction {
  return { type: "read", command, name: basename(path), path };
}

interface Flag {
  name: string;
  value?: string;
}

/** Separates flags from operands; `--` ends flags; `--name=value` carries its value inline. */
function splitArgs(args: readonly string[], valueFlags: ReadonlySet<string>): { flags: Flag[]; operands: string[] } {
  const flags: Flag[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      const eq = a.indexOf("=");
      if (a.startsWith("--") && eq > 0) {
        flags.push({ name: a.slice(0, eq), value: a.slice(eq + 1) });
      } else if (valueFlags.has(a) && i + 1 < args.length) {
        flags.push({ name: a, value: args[++i]! });
      } else {
        flags.push({ name: a });
      }
      continue;
    }
    operands.push(a);
  }
  return { flags, operands };
}
