import { context } from "@threadmesh/telemetry";
import { ModelAbortedError, ModelError, type ModelFunctionCall, type ModelRequest, type ModelUsage } from "../model/model-client.ts";
import type { ActiveTurn, RoundAbortReason } from "./active-turn.ts";
import { developerMessageEntry } from "./history-items.ts";
import { ModelStreamSpan } from "./model-stream-span.ts";
import type { TurnContext } from "./turn-context.ts";
import { TurnStreamSink } from "./turn-stream-sink.ts";

/** How one model request of a turn ended. */
export type RoundOutcome =
  | { kind: "completed"; calls: ModelFunctionCall[]; usage: ModelUsage | null }
  /** A steer abandoned the response; it is re-requested with the steered input. */
  | { kind: "abandoned" }
  /** The turn ended while the request was in flight. */
  | { kind: "interrupted" }
  | { kind: "failed"; error: ModelError };

/**
 * Sends one model request with the thread's history and streams the response into notifications.
 * The request is aborted by the turn's own abort (interrupt) or by a steer while a message streams.
 */
export async function runModelRound(ctx: TurnContext, turn: ActiveTurn, request: ModelRequest): Promise<RoundOutcome> {
  const span = new ModelStreamSpan(turn.spans, request);
  const outcome = await streamRound(ctx, turn, request, span);
  span.end(outcome);
  return outcome;
}

async function streamRound(ctx: TurnContext, turn: ActiveTurn, request: ModelRequest, span: ModelStreamSpan): Promise<RoundOutcome> {
  const round = new AbortController();
  const onTurnAbort = () => round.abort("interrupt" satisfies RoundAbortReason);
  turn.abort.signal.addEventListener("abort", onTurnAbort, { once: true });
  turn.round = round;
  turn.finalMessage = null;
  const sink = new TurnStreamSink(ctx, turn, round.signal);
  try {
    // Sent in the span's context: the provider receives the span as the request's `traceparent`.
    const res = await context.with(span.context, () => ctx.model.stream(request, span.watch(sink), round.signal));
    return { kind: "completed", calls: sink.calls, usage: res.usage };
  } catch (err) {
    if (err instanceof ModelAbortedError || round.signal.aborted) {
      return round.signal.reason === "steer" && !turn.finished ? { kind: "abandoned" } : { kind: "interrupted" };
    }
    if (err instanceof ModelError) return { kind: "failed", error: err };
    ctx.logger.error({ err, threadId: ctx.threadId, turnId: turn.id }, "model request failed unexpectedly");
    return { kind: "failed", error: new ModelError(`model request failed: ${(err as Error)?.message ?? String(err)}`, "other", false, { cause: err }) };
  } finally {
    turn.abort.signal.removeEventListener("abort", onTurnAbort);
    turn.round = null;
    turn.messageStreaming = false;
  }
}

/** The next model request of the turn: the thread's history with the turn's settings. */
export function buildRequest(ctx: TurnContext, turn: ActiveTurn, tools: unknown[]): ModelRequest {
  const s = turn.settings;
  const history = ctx.history();
  const input = s.developerInstructions ? [developerMessageEntry(s.developerInstructions), ...history] : [...history];
  const request: ModelRequest = {
    model: s.model,
    instructions: s.instructions,
    input,
    tools,
    promptCacheKey: ctx.threadId,
    reasoning: { effort: s.effort, summary: s.summary },
    serviceTier: s.serviceTier,
  };
  if (s.outputSchema !== undefined && s.outputSchema !== null) request.outputSchema = s.outputSchema;
  return request;
}
