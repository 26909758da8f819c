import { isAbsolute, relative, resolve, sep } from "node:path";
import type { CommandExecutionItem, CommandExecutionStatus, SandboxPolicy } from "@threadmesh/protocol";
import { SandboxUnavailableError } from "../sandbox/bwrap.ts";
import { sandboxSpecFromPolicy } from "../sandbox/sandbox-spec.ts";
import { sandboxUser } from "../sandbox/sandbox-user.ts";
import { withinBounds } from "../policy/workspace-bounds.ts";
import { runCommand, type ExecResult } from "../tools/exec.ts";
import { ToolArgumentError, commandActions, displayCommand, parseShellArgs, type ShellCallArgs } from "../tools/shell-tool.ts";
import type { ModelFunctionCall } from "../model/model-client.ts";
import type { ActiveTurn } from "./active-turn.ts";
import { commandNeedsApproval, proposedAmendment } from "./approval-policy.ts";
import { requestApproval } from "./approval-request.ts";
import { commandKey, type TurnContext } from "./turn-context.ts";
import type { ToolOutcome } from "./tool-outcome.ts";

/**
 * Choices offered with a command approval, as Codex orders them: accept, the proposed exec-policy
 * amendment when there is one, cancel. `acceptForSession` and `decline` are still honoured as answers.
 */
export function commandDecisions(amendment: string[] | null): unknown[] {
  return amendment ? ["accept", { acceptWithExecpolicyAmendment: { execpolicy_amendment: amendment } }, "cancel"] : ["accept", "cancel"];
}
const REJECTED_OUTPUT = "exec command rejected by user";
/** What the model reads when it asks to run outside the sandbox on a server whose caps forbid it (worded as Codex's refusals). */
export const ESCALATION_DISABLED_OUTPUT = "escalation is disabled by the server; reject command — you should not ask for escalated permissions, run the command inside the sandbox instead";

/**
 * Runs a `shell` call as a `commandExecution` item with source `agent`, as Codex reports its one-shot
 * `shell` tool (`unifiedExecStartup` would make Codex clients list a background terminal that never ends). With approval (§6.1): `waitingOnApproval` status,
 * `item/started`, the request, then the answer's resolution, `active` status again and
 * the run. Without: `item/started`, output deltas, `item/completed`. Returns null when the turn ended
 * while the call was pending or running.
 */
export async function runShellCall(ctx: TurnContext, turn: ActiveTurn, call: ModelFunctionCall): Promise<ToolOutcome | null> {
  let args: ShellCallArgs;
  try {
    args = parseShellArgs(call.arguments);
  } catch (err) {
    if (err instanceof ToolArgumentError) return { output: err.message };
    throw err;
  }
  const root = turn.settings.cwd;
  const cwd = resolveWorkdir(root, args.workdir);
  if (cwd === null) return { output: `workdir ${args.workdir} is outside the thread's working directory ${root}` };
  // Lexically inside is not enough: a link in the workspace may point elsewhere.
  if (!withinBounds(turn.settings.bounds, cwd)) return { output: `workdir ${args.workdir ?? cwd} resolves outside the workspace root` };

  const argv = args.command;
  const escalate = args.sandbox_permissions === "require_escalated";
  // Nobody may approve running outside the sandbox: refused before any item or approval request.
  if (escalate && !turn.settings.caps.escalation && commandNeedsApproval(turn.settings.approvalPolicy, argv, true, false)) {
    return { output: ESCALATION_DISABLED_OUTPUT };
  }
  const key = commandKey(argv);
  const ask = commandNeedsApproval(turn.settings.approvalPolicy, argv, escalate, ctx.sessionApprovals.has(key));
  const threadId = ctx.threadId;
  const item: CommandExecutionItem = {
    type: "commandExecution",
    id: call.callId,
    command: displayCommand(argv),
    cwd,
    processId: null,
    source: "agent",
    status: "inProgress",
    commandActions: commandActions(argv),
    aggregatedOutput: null,
    exitCode: null,
    durationMs: null,
    pluginId: null,
    scriptPath: null,
    startedAtMs: Date.now(),
    completedAtMs: null,
  };
  const complete = (status: CommandExecutionStatus) => {
    item.status = status;
    item.completedAtMs = Date.now();
    turn.emit("item/completed", { item, threadId, turnId: turn.id, contentTokenCount: null, completedAtMs: item.completedAtMs });
    ctx.recordItem(turn.id, item);
  };

  let policy: SandboxPolicy = turn.settings.sandboxPolicy;
  if (ask) {
    const amendment = proposedAmendment(argv);
    ctx.setActiveFlags(["waitingOnApproval"]);
    turn.emit("item/started", { item, threadId, turnId: turn.id, startedAtMs: item.startedAtMs });
    const outcome = await requestApproval(turn, ctx.pending, "item/commandExecution/requestApproval", {
      kind: "command",
      threadId,
      turnId: turn.id,
      itemId: item.id,
      startedAtMs: item.startedAtMs,
      environmentId: "local",
      // Codex leaves `reason` out when the model gave no justification.
      ...(args.justification ? { reason: args.justification } : {}),
      command: item.command,
      cwd,
      commandActions: item.commandActions,
      proposedExecpolicyAmendment: amendment,
      availableDecisions: commandDecisions(amendment),
    });
    if (turn.finished || outcome === "cleared") return null;
    switch (outcome) {
      case "decline":
        complete("declined");
        ctx.setActiveFlags([]);
        return { output: REJECTED_OUTPUT };
      case "cancel":
        complete("declined");
        return { output: REJECTED_OUTPUT, cancel: true };
      case "failed":
        complete("failed");
        ctx.setActiveFlags([]);
        return { output: "exec approval request failed; the command was not run" };
      case "acceptForSession":
        ctx.sessionApprovals.add(key);
        break;
      case "accept":
        break;
    }
    ctx.setActiveFlags([]);
    if (escalate) policy = { type: "dangerFullAccess" };
  } else {
    turn.emit("item/started", { item, threadId, turnId: turn.id, startedAtMs: item.startedAtMs });
  }

  const timeoutMs = Math.min(args.timeout_ms ?? ctx.config.commandTimeoutMs, ctx.config.maxCommandTimeoutMs);
  let result: ExecResult;
  try {
    result = await runCommand({
      argv,
      cwd,
      env: ctx.config.commandEnv,
      timeoutMs,
      outputCapBytes: ctx.config.outputCapBytes,
      sandbox: sandboxSpecFromPolicy(policy, root),
      bwrapPath: ctx.bwrapPath,
      user: sandboxUser(ctx.tenant),
      workspaceRoot: ctx.config.workspaceRoot,
      signal: turn.abort.signal,
      onOutput: (delta) => turn.emit("item/commandExecution/outputDelta", { threadId, turnId: turn.id, itemId: item.id, delta }),
    });
  } catch (err) {
    if (!(err instanceof SandboxUnavailableError)) throw err;
    if (turn.finished) return null;
    item.aggregatedOutput = err.message;
    complete("failed");
    return { output: err.message };
  }
  if (turn.finished) return null;
  item.processId = result.pid === null ? null : String(result.pid);
  item.aggregatedOutput = result.output;
  item.exitCode = result.exitCode;
  item.durationMs = result.durationMs;
  complete(result.exitCode === 0 ? "completed" : "failed");
  return { output: formatExecOutput(result, timeoutMs) };
}

/** `workdir` resolved against the thread's cwd; null when it leaves it. */
export function resolveWorkdir(root: string, workdir: string | undefined): string | null {
  const dir = resolve(root, workdir ?? ".");
  const rel = relative(root, dir);
  if (rel === "") return dir;
  return rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? null : dir;
}

/** The tool output the model reads. */
export function formatExecOutput(r: ExecResult, timeoutMs: number): string {
  let out = `Exit code: ${r.exitCode}\nWall time: ${(r.durationMs / 1000).toFixed(1)} seconds\n`;
  if (r.timedOut) out += `Command timed out after ${timeoutMs} milliseconds\n`;
  out += `Output:\n${r.output}`;
  if (r.truncated) out += "\n[output truncated]";
  return out;
}
