import { basename } from "node:path";

/** Shells whose `-l` makes them read login profiles (/etc/profile, ~/.bash_profile, ~/.profile, …). */
const SHELLS = new Set(["bash", "sh", "zsh", "dash", "ksh"]);

/**
 * The argv a command runs with: `bash -lc SCRIPT` (the form models send, as Codex's shell tool does)
 * runs as `bash -c SCRIPT`, so nothing a login profile prints (version-manager warnings, banners) or
 * sets reaches the command's output or environment; the command's environment is the explicit one the
 * session host gives it. The command shown to clients stays as the model sent it. Any other argv is
 * returned as is.
 */
export function withoutLoginProfile(argv: readonly string[]): string[] {
  const [shell, flag, ...rest] = argv;
  if (shell === undefined || flag === undefined || !SHELLS.has(basename(shell))) return [...argv];
  if (flag === "-lc" || flag === "-cl") return [shell, "-c", ...rest];
  if (flag === "-l" && rest[0] === "-c") return [shell, ...rest];
  if (flag === "--login" && rest[0] === "-c") return [shell, ...rest];
  return [...argv];
}
