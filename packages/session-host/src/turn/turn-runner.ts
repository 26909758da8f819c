import { newId, type UserMessageItem } from "@threadmesh/protocol";
import type { ModelError } from "../model/model-client.ts";
import type { ActiveTurn, QueuedInput } from "./active-turn.ts";
import { echoInput, userMessageEntry } from "./history-items.ts";
import { admitRound, releaseHeld, settleRound } from "../admission/round-admission.ts";
import { buildRequest, runModelRound } from "./model-round.ts";
import { runToolCall } from "./tool-call.ts";
import type { TurnContext } from "./turn-context.ts";

/**
 * The agent loop of one turn (§5.2–5.6). Each iteration joins queued steers as user messages, sends one
 * model request and runs the function calls it produced; the round then reports its usage (and the
 * turn's diff when an earlier round changed files). The loop ends when a response asks for no tool and
 * no input is waiting. Interrupts end the turn from outside: after every await the loop checks
 * `turn.finished` and stops without emitting anything.
 */
export async function runTurn(ctx: TurnContext, turn: ActiveTurn, tools: unknown[]): Promise<void> {
  try {
    let round = 0;
    for (;;) {
      await injectQueuedInput(ctx, turn);
      if (turn.finished) return;
      const request = buildRequest(ctx, turn, tools);
      if (ctx.admission !== null && !(await admitRound(ctx, turn, request))) return;
      const outcome = await runModelRound(ctx, turn, request);
      // The usage of a completed request is charged even when the turn ended meanwhile; a request that
      // failed or was cut off reported none, and its reservation goes back. An abandoned request is sent
      // again with the steered input under the same reservation.
      const rateLimits = outcome.kind === "completed" && ctx.admission !== null ? await settleRound(ctx, turn, request, outcome.usage, outcome.calls.length === 0 && turn.steers.length === 0) : null;
      // A response that ended incomplete or failed with its usage is charged that usage, as the provider bills it.
      const failedUsage = outcome.kind === "failed" ? outcome.error.usage : null;
      if (failedUsage !== null && ctx.admission !== null) await settleRound(ctx, turn, request, failedUsage, true);
      else if ((outcome.kind === "failed" || outcome.kind === "interrupted") && ctx.admission !== null) releaseHeld(ctx.admission, turn, ctx.logger);
      if (outcome.kind === "completed") turn.unreportedUsage = { usage: outcome.usage, rateLimits };
      if (turn.finished || outcome.kind === "interrupted") return;
      if (outcome.kind === "abandoned") {
        ctx.reportCutShort(turn);
        continue;
      }
      if (outcome.kind === "failed") {
        await ctx.endTurn(turn, { status: "failed", error: turnError(outcome.error), streamStarted: outcome.error.streamStarted, usage: failedUsage });
        return;
      }
      // A cancelled approval ends the turn: as Codex, the thread shows active again and the round's usage
      // is reported before the turn's end.
      const beforeCancel = () => {
        ctx.setActiveFlags([]);
        ctx.reportUsage(turn, outcome.usage, rateLimits);
      };
      for (const call of outcome.calls) {
        await runToolCall(ctx, turn, call, round, beforeCancel);
        if (turn.finished) return;
      }
      // The round's usage (and the turn's end) travel as one bus message.
      let ending: Promise<void> | undefined;
      ctx.events.cork();
      try {
        ctx.reportUsage(turn, outcome.usage, rateLimits);
        if (turn.diffRound >= 0 && turn.diffRound < round) {
          turn.emit("turn/diff/updated", { threadId: ctx.threadId, turnId: turn.id, diff: turn.diff.unifiedDiff(turn.settings.cwd) });
        }
        round++;
        // endTurn publishes synchronously and then waits for storage: uncork before that wait.
        if (outcome.calls.length === 0 && turn.steers.length === 0) ending = ctx.endTurn(turn, { status: "completed" });
      } finally {
        ctx.events.uncork();
      }
      if (ending !== undefined) return await ending;
    }
  } catch (err) {
    ctx.logger.error({ err, threadId: ctx.threadId, turnId: turn.id }, "turn failed unexpectedly");
    if (!turn.finished) {
      const message = `internal error: ${(err as Error)?.message ?? String(err)}`;
      await ctx.endTurn(turn, { status: "failed", error: { message, codexErrorInfo: "other", additionalDetails: null, misalignment: null }, streamStarted: false });
    }
  }
}

/** Emits a `userMessage` item (started and completed back to back) and adds it to the history. */
export async function emitUserMessage(ctx: TurnContext, turn: ActiveTurn, queued: QueuedInput): Promise<void> {
  const entry = await userMessageEntry(queued.input);
  if (turn.finished) return;
  emitUserItem(ctx, turn, queued);
  ctx.appendHistory(turn.id, [entry]);
}

/** Emits a `userMessage` item, started and completed back to back, and records it on the turn. */
export function emitUserItem(ctx: TurnContext, turn: ActiveTurn, queued: QueuedInput): void {
  const now = Date.now();
  const item: UserMessageItem = { type: "userMessage", id: newId(), clientId: queued.clientId, content: echoInput(queued.input), startedAtMs: now, completedAtMs: null };
  turn.emit("item/started", { item, threadId: ctx.threadId, turnId: turn.id, startedAtMs: now });
  item.completedAtMs = now;
  turn.emit("item/completed", { item, threadId: ctx.threadId, turnId: turn.id, contentTokenCount: null, completedAtMs: now });
  ctx.recordItem(turn.id, item);
}

async function injectQueuedInput(ctx: TurnContext, turn: ActiveTurn): Promise<void> {
  while (turn.steers.length > 0 && !turn.finished) await emitUserMessage(ctx, turn, turn.steers.shift()!);
}

function turnError(err: ModelError) {
  return { message: err.message, codexErrorInfo: err.codexErrorInfo, additionalDetails: null, misalignment: null };
}
