import { relative } from "node:path";
import type { FileChangeItem, PatchApplyStatus } from "@threadmesh/protocol";
import { isPathWritable, sandboxSpecFromPolicy } from "../sandbox/sandbox-spec.ts";
import { withinBounds } from "../policy/workspace-bounds.ts";
import { sandboxUser } from "../sandbox/sandbox-user.ts";
import { adoptWorkspace } from "../sandbox/workspace-owner.ts";
import { applyResolvedAs } from "../tools/patch-writer.ts";
import { PatchError, applyResolved, parsePatch, resolvePatch, toFileUpdateChanges, touchedPaths, type ResolvedChange } from "../tools/apply-patch.ts";
import type { ModelFunctionCall } from "../model/model-client.ts";
import type { ActiveTurn } from "./active-turn.ts";
import { patchDecision } from "./approval-policy.ts";
import { requestApproval } from "./approval-request.ts";
import type { TurnContext } from "./turn-context.ts";
import type { ToolOutcome } from "./tool-outcome.ts";

/**
 * Runs an `apply_patch` call as a `fileChange` item. The patch is resolved against the files first
 * (nothing written), shown in `item/started`, approved when it writes outside the sandbox or the policy
 * is `untrusted` (§6.2: `item/started` comes before `waitingOnApproval`), then applied; the turn's
 * aggregated diff follows the item's completion. Returns null when the turn ended meanwhile.
 */
export async function runPatchCall(ctx: TurnContext, turn: ActiveTurn, call: ModelFunctionCall, round: number): Promise<ToolOutcome | null> {
  const input = patchInput(call.arguments);
  if (typeof input !== "string") return { output: input.error };
  const cwd = turn.settings.cwd;
  let changes: ResolvedChange[];
  try {
    changes = await resolvePatch(parsePatch(input), cwd);
  } catch (err) {
    if (err instanceof PatchError) return { output: `apply_patch verification failed: ${err.message}` };
    throw err;
  }
  if (turn.finished) return null;

  const paths = touchedPaths(changes);
  const outside = paths.find((p) => !withinBounds(turn.settings.bounds, p));
  if (outside !== undefined) return { output: `patch rejected: ${outside} is outside the workspace root` };
  const spec = sandboxSpecFromPolicy(turn.settings.sandboxPolicy, cwd);
  const allWritable = paths.every((p) => isPathWritable(p, spec));
  let decision = patchDecision(turn.settings.approvalPolicy, allWritable);
  // Writing outside the sandbox is an escalation: with escalations off nobody may approve it.
  if (decision === "ask" && !allWritable && !turn.settings.caps.escalation) decision = "reject";
  const threadId = ctx.threadId;
  const item: FileChangeItem = { type: "fileChange", id: call.callId, changes: toFileUpdateChanges(changes), status: "inProgress", startedAtMs: Date.now(), completedAtMs: null };
  const complete = (status: PatchApplyStatus) => {
    item.status = status;
    item.completedAtMs = Date.now();
    turn.emit("item/completed", { item, threadId, turnId: turn.id, contentTokenCount: null, completedAtMs: item.completedAtMs });
    ctx.recordItem(turn.id, item);
  };
  turn.emit("item/started", { item, threadId, turnId: turn.id, startedAtMs: item.startedAtMs });

  if (decision === "reject") {
    complete("failed");
    const why = turn.settings.caps.escalation ? "the approval policy does not allow asking" : "escalation is disabled by the server";
    return { output: `patch rejected: it writes outside the sandbox's writable roots and ${why}` };
  }
  if (decision === "ask") {
    ctx.setActiveFlags(["waitingOnApproval"]);
    const outcome = await requestApproval(turn, ctx.pending, "item/fileChange/requestApproval", {
      threadId,
      turnId: turn.id,
      itemId: item.id,
      startedAtMs: item.startedAtMs,
      reason: null,
      grantRoot: null,
    });
    if (turn.finished || outcome === "cleared") return null;
    if (outcome === "cancel") {
      complete("declined");
      return { output: "patch rejected by user", cancel: true };
    }
    ctx.setActiveFlags([]);
    if (outcome === "decline") {
      complete("declined");
      return { output: "patch rejected by user" };
    }
    if (outcome === "failed") {
      complete("failed");
      return { output: "patch approval request failed; the patch was not applied" };
    }
  }

  try {
    // Inside the sandbox's writable roots a root host writes as the sandbox's user, so the kernel holds
    // the writes to the same bounds as the sandbox's commands; an approved write outside stays the host's.
    const user = allWritable && spec.mode !== "danger-full-access" ? sandboxUser(ctx.tenant) : null;
    if (user === null) await applyResolved(changes);
    else {
      for (const root of [spec.workspace, ...spec.writableRoots]) await adoptWorkspace(root, user, ctx.config.workspaceRoot);
      await applyResolvedAs(changes, user);
    }
  } catch (err) {
    if (turn.finished) return null;
    complete("failed");
    return { output: `apply_patch failed: ${(err as Error).message}` };
  }
  turn.diff.record(changes);
  turn.diffRound = round;
  if (turn.finished) return null;
  complete("completed");
  turn.emit("turn/diff/updated", { threadId, turnId: turn.id, diff: turn.diff.unifiedDiff(cwd) });
  return { output: successOutput(changes, cwd) };
}

function patchInput(argumentsJson: string): string | { error: string } {
  try {
    const args = JSON.parse(argumentsJson) as { input?: unknown };
    if (typeof args?.input === "string") return args.input;
    return { error: "invalid apply_patch arguments: input must be a string" };
  } catch (err) {
    return { error: `failed to parse function arguments: ${(err as Error).message}` };
  }
}

function successOutput(changes: ResolvedChange[], cwd: string): string {
  const lines = changes.map((c) => {
    const mark = c.kind.type === "add" ? "A" : c.kind.type === "delete" ? "D" : "M";
    return `${mark} ${relative(cwd, c.movePath ?? c.path)}`;
  });
  return `Success. Updated the following files:\n${lines.join("\n")}\n`;
}
