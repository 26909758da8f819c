import { z } from "zod";
import { shellJoin, singleQuote } from "./shell-quote.ts";
import { ToolArgumentError } from "./tool-argument-error.ts";

export { ToolArgumentError } from "./tool-argument-error.ts";
export { commandActions } from "./command-actions.ts";

/** Arguments of Codex's `shell` function tool. */
export interface ShellCallArgs {
  /** argv passed to execvp; most commands arrive as `["bash", "-lc", script]`. */
  command: string[];
  /** Working directory, absolute or relative to the thread's cwd. */
  workdir?: string;
  /** Per-call timeout in milliseconds. */
  timeout_ms?: number;
  /** `require_escalated` asks to run outside the sandbox (needs approval). Default `use_default`. */
  sandbox_permissions?: "use_default" | "require_escalated";
  /** One-sentence reason for an escalation request. */
  justification?: string;
}

const ShellArgsSchema = z.object({
  // A bare string is accepted too and run through bash, as models sometimes send one.
  command: z.union([z.array(z.string()).min(1, "must not be empty"), z.string().min(1, "must not be empty")], {
    error: (issue) => (issue.input === undefined ? "required, an array of strings" : "expected an array of strings"),
  }),
  workdir: z.string().min(1).nullish(),
  timeout_ms: z.number().int().positive().nullish(),
  sandbox_permissions: z.enum(["use_default", "require_escalated"]).nullish(),
  justification: z.string().nullish(),
});

/**
 * Parses and validates the `arguments` JSON of a `shell` call. Null optional fields count as absent.
 * @throws ToolArgumentError with a message meant for the model.
 */
export function parseShellArgs(argumentsJson: string): ShellCallArgs {
  let raw: unknown;
  try {
    raw = JSON.parse(argumentsJson);
  } catch (err) {
    throw new ToolArgumentError(`failed to parse function arguments: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ShellArgsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    throw new ToolArgumentError(`invalid shell arguments: ${issues.join("; ")}`);
  }
  const a = parsed.data;
  const args: ShellCallArgs = { command: typeof a.command === "string" ? ["bash", "-lc", a.command] : a.command };
  if (a.workdir != null) args.workdir = a.workdir;
  if (a.timeout_ms != null) args.timeout_ms = a.timeout_ms;
  if (a.sandbox_permissions != null) args.sandbox_permissions = a.sandbox_permissions;
  if (a.justification != null) args.justification = a.justification;
  return args;
}

/**
 * The command string shown in `commandExecution.command`. `bash -lc SCRIPT` (or `/bin/bash -lc SCRIPT`)
 * renders as Codex does, `/bin/bash -lc '<script>'`; anything else is a shell-quoted join.
 */
export function displayCommand(argv: readonly string[]): string {
  if (argv.length === 3 && (argv[0] === "bash" || argv[0] === "/bin/bash") && argv[1] === "-lc") {
    return `/bin/bash -lc ${singleQuote(argv[2]!)}`;
  }
  return shellJoin(argv);
}
