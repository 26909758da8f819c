import { basename } from "node:path";
import type { AskForApproval } from "@threadmesh/protocol";
import { splitSimpleCommand } from "../tools/shell-quote.ts";

/** Read-only programs run without asking under `untrusted`. */
const SAFE_PROGRAMS = new Set(["ls", "cat", "pwd", "echo", "rg", "grep", "head", "tail", "wc"]);
/** Read-only `git` subcommands. */
const SAFE_GIT_SUBCOMMANDS = new Set(["status", "diff", "log"]);
/** Flags that make an otherwise read-only program run other programs or write files. */
const UNSAFE_FLAGS: Record<string, readonly string[]> = {
  rg: ["--pre", "--search-zip", "-z"],
  git: ["--output", "-c", "--exec-path", "--ext-diff"],
};
const SHELLS = new Set(["bash", "sh", "zsh", "dash"]);

/**
 * Whether a shell call must be approved before it runs.
 * - `never`: never asks (the command runs sandboxed; failures go back to the model);
 * - `on-request`: asks only when the model requests escalation (`require_escalated`);
 * - `untrusted`: asks for everything but a small set of known read-only commands;
 * - `granular`: like `on-request` when `sandbox_approval` is set, else like `never`.
 * A command approved for the session (`acceptForSession`) never asks again.
 */
export function commandNeedsApproval(policy: AskForApproval, argv: readonly string[], escalate: boolean, approvedForSession: boolean): boolean {
  if (approvedForSession) return false;
  if (policy === "never") return false;
  if (policy === "on-request") return escalate;
  if (policy === "untrusted") return escalate || !isKnownSafeCommand(argv);
  return policy.granular.sandbox_approval && escalate;
}

/** What to do with a patch: apply it, ask first, or refuse it (a write outside the sandbox nobody may approve). */
export function patchDecision(policy: AskForApproval, allWritable: boolean): "apply" | "ask" | "reject" {
  if (policy === "untrusted") return "ask";
  if (allWritable) return "apply";
  if (policy === "never") return "reject";
  if (policy === "on-request") return "ask";
  return policy.granular.sandbox_approval ? "ask" : "reject";
}

/** True for argv (or `bash -lc SCRIPT` with one simple command) that only reads. */
export function isKnownSafeCommand(argv: readonly string[]): boolean {
  const words = commandWords(argv);
  if (!words || words.length === 0) return false;
  const program = basename(words[0]!);
  const unsafe = UNSAFE_FLAGS[program] ?? [];
  if (words.some((w) => unsafe.some((f) => w === f || w.startsWith(`${f}=`)))) return false;
  if (program === "git") return words.length >= 2 && SAFE_GIT_SUBCOMMANDS.has(words[1]!);
  return SAFE_PROGRAMS.has(program);
}

/**
 * The command prefix offered as `proposedExecpolicyAmendment`: the words of the first simple command
 * (for `touch x && echo y`, `["touch", "x"]`), or null when it cannot be expressed as words.
 */
export function proposedAmendment(argv: readonly string[]): string[] | null {
  const script = shellScript(argv);
  if (script === null) return argv.length > 0 ? [...argv] : null;
  const first = script.split(/&&|\|\||;|\|/)[0] ?? "";
  const words = splitSimpleCommand(first);
  return words && words.length > 0 ? words : null;
}

function commandWords(argv: readonly string[]): string[] | null {
  const script = shellScript(argv);
  return script === null ? [...argv] : splitSimpleCommand(script);
}

function shellScript(argv: readonly string[]): string | null {
  if (argv.length !== 3) return null;
  const [shell, flag, script] = argv as [string, string, string];
  return SHELLS.has(basename(shell)) && (flag === "-lc" || flag === "-c") ? script : null;
}
