import { SpanAttr } from "@threadmesh/telemetry";
import { toolLabel, type ToolOutcomeLabel } from "../host-metrics.ts";
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
 * after the call was recorded, once `beforeCancel` ran (Codex reports the thread active again and the
 * round's usage before the turn ends).
 */
export async function runToolCall(ctx: TurnContext, turn: ActiveTurn, call: ModelFunctionCall, round: number, beforeCancel: () => void = () => undefined): Promise<void> {
  const tool = toolLabel(call.name, ctx.dynamicTools);
  let outcome: ToolOutcome | null;
  try {
    // Named by tool label, not call name: client-declared tools would make span names unbounded.
    outcome = await turn.spans.tool(`threadmesh.tool ${tool}`, { [SpanAttr.ItemId]: call.callId, "gen_ai.tool.name": call.name }, async (span) => {
      const o = await dispatch(ctx, turn, call, round);
      span.setAttribute(SpanAttr.Outcome, outcomeLabel(turn, o));
      return o;
    });
  } catch (err) {
    ctx.metrics.toolCalls.inc({ tool, outcome: "error" });
    throw err;
  }
  ctx.metrics.toolCalls.inc({ tool, outcome: outcomeLabel(turn, outcome) });
  if (outcome === null || turn.finished) return;
  ctx.appendHistory(turn.id, [functionCallEntry(call), functionCallOutputEntry(call.callId, outcome.output)]);
  if (outcome.cancel) {
    beforeCancel();
    await ctx.endTurn(turn, { status: "interrupted" });
  }
}

function outcomeLabel(turn: ActiveTurn, outcome: ToolOutcome | null): ToolOutcomeLabel {
  return outcome === null || turn.finished ? "interrupted" : outcome.cancel ? "cancelled" : "completed";
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
