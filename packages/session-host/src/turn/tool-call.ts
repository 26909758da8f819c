import type { ModelFunctionCall } from "../model/model-client.ts";
import { ToolArgumentError } from "../tools/tool-argument-error.ts";
import { parsePlanArgs } from "../tools/plan-tool.ts";
import { resolveDynamicToolName } from "../tools/tool-specs.ts";
import type { ActiveTurn } from "./active-turn.ts";
import { runDynamicToolCall } from "./dynamic-tool-call.ts";
import { functionCallEntry, functionCallOutputEntry } from "./history-items.ts";
import { runPatchCall } from "./patch-call.ts";
import { runShellCall } from "./shell-call.ts";
import type { TurnContext } from "./turn-context.ts";
import type { ToolOutcome } from "./tool-outcome.ts";

/**
 * Runs one function call of a model response and records the call with its output in the history.
 * A call cut short by the end of the turn leaves no history; `cancel` ends the turn as interrupted
 * after the call was recorded.
 */
export async function runToolCall(ctx: TurnContext, turn: ActiveTurn, call: ModelFunctionCall, round: number): Promise<void> {
  const outcome = await dispatch(ctx, turn, call, round);
  if (outcome === null || turn.finished) return;
  ctx.appendHistory(turn.id, [functionCallEntry(call), functionCallOutputEntry(call.callId, outcome.output)]);
  if (outcome.cancel) await ctx.endTurn(turn, { status: "interrupted" });
}

function dispatch(ctx: TurnContext, turn: ActiveTurn, call: ModelFunctionCall, round: number): Promise<ToolOutcome | null> | ToolOutcome {
  switch (call.name) {
    case "shell":
      return runShellCall(ctx, turn, call);
    case "apply_patch":
      return runPatchCall(ctx, turn, call, round);
    case "update_plan":
      return updatePlan(ctx, turn, call);
    default: {
      const dynamic = resolveDynamicToolName(call.name, ctx.dynamicTools);
      if (dynamic) return runDynamicToolCall(ctx, turn, call, dynamic);
      return { output: `unsupported call: ${call.name}` };
    }
  }
}

/** `update_plan`: publishes `turn/plan/updated`; no item. */
function updatePlan(ctx: TurnContext, turn: ActiveTurn, call: ModelFunctionCall): ToolOutcome {
  try {
    const { explanation, plan } = parsePlanArgs(call.arguments);
    turn.emit("turn/plan/updated", { threadId: ctx.threadId, turnId: turn.id, explanation, plan });
    return { output: "Plan updated" };
  } catch (err) {
    if (err instanceof ToolArgumentError) return { output: err.message };
    throw err;
  }
}
