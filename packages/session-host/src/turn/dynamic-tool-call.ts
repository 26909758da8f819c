import type { DynamicToolCallItem, DynamicToolCallOutputContentItem } from "@threadmesh/protocol";
import type { ModelFunctionCall } from "../model/model-client.ts";
import type { ActiveTurn } from "./active-turn.ts";
import type { TurnContext } from "./turn-context.ts";
import type { ToolOutcome } from "./tool-outcome.ts";

const INVALID_RESPONSE: DynamicToolCallOutputContentItem[] = [{ type: "inputText", text: "dynamic tool response was invalid" }];

/**
 * Runs a call of a client-declared dynamic tool (§6.4): `item/started {dynamicToolCall}`, the
 * `item/tool/call` request, then `item/completed` with the client's content. An answer that does not
 * parse (or an error answer) fails the item with "dynamic tool response was invalid"; the turn goes on.
 * Returns null when the turn ended while the request was pending.
 */
export async function runDynamicToolCall(
  ctx: TurnContext,
  turn: ActiveTurn,
  call: ModelFunctionCall,
  tool: { namespace: string | null; tool: string },
): Promise<ToolOutcome | null> {
  const args = parseArguments(call.arguments);
  const threadId = ctx.threadId;
  const item: DynamicToolCallItem = {
    type: "dynamicToolCall",
    id: call.callId,
    namespace: tool.namespace,
    tool: tool.tool,
    arguments: args,
    status: "inProgress",
    contentItems: null,
    success: null,
    durationMs: null,
    startedAtMs: Date.now(),
    completedAtMs: null,
  };
  turn.emit("item/started", { item, threadId, turnId: turn.id, startedAtMs: item.startedAtMs });
  const answer = await ctx.pending.request("item/tool/call", {
    threadId,
    turnId: turn.id,
    callId: call.callId,
    namespace: tool.namespace,
    tool: tool.tool,
    arguments: args,
  });
  if (turn.finished || answer.kind === "cancelled") return null;

  const response = answer.kind === "result" ? parseResponse(answer.result) : null;
  item.contentItems = response?.contentItems ?? INVALID_RESPONSE;
  item.success = response?.success ?? false;
  item.status = item.success ? "completed" : "failed";
  item.completedAtMs = Date.now();
  item.durationMs = item.completedAtMs - item.startedAtMs!;
  turn.emit("item/completed", { item, threadId, turnId: turn.id, contentTokenCount: null, completedAtMs: item.completedAtMs });
  ctx.recordItem(turn.id, item);
  const text = item.contentItems.filter((c) => c.type === "inputText").map((c) => (c as { text: string }).text);
  return { output: text.join("\n") };
}

function parseArguments(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

function parseResponse(v: unknown): { contentItems: DynamicToolCallOutputContentItem[]; success: boolean } | null {
  if (typeof v !== "object" || v === null) return null;
  const r = v as { contentItems?: unknown; success?: unknown };
  if (!Array.isArray(r.contentItems) || typeof r.success !== "boolean") return null;
  const items: DynamicToolCallOutputContentItem[] = [];
  for (const c of r.contentItems) {
    const ci = c as Record<string, unknown> | null;
    if (ci?.["type"] === "inputText" && typeof ci["text"] === "string") items.push({ type: "inputText", text: ci["text"] });
    else if (ci?.["type"] === "inputImage" && typeof ci["imageUrl"] === "string") items.push({ type: "inputImage", imageUrl: ci["imageUrl"] });
    else if (ci?.["type"] === "inputAudio" && typeof ci["audioUrl"] === "string") items.push({ type: "inputAudio", audioUrl: ci["audioUrl"] });
    else return null;
  }
  return { contentItems: items, success: r.success };
}
