import type { RateLimitSnapshot } from "@threadmesh/protocol";
import { refusalNotifications, refusalTurnError } from "@threadmesh/ratelimit";
import type { Logger } from "@threadmesh/telemetry";
import type { ModelRequest, ModelUsage } from "../model/model-client.ts";
import type { ActiveTurn } from "../turn/active-turn.ts";
import type { TurnContext } from "../turn/turn-context.ts";
import { estimateInputTokens, type TurnAdmission } from "./turn-admission.ts";

/**
 * Admits the turn's next model request before it is sent: a request already reserved (round 0 by
 * `turn/start`, or one a steer abandoned and sends again) goes at once. A refused round ends the turn
 * `failed`: `account/rateLimits/updated` with `rateLimitReachedType` set, then the `error` notification
 * with `codexErrorInfo` `usageLimitExceeded` or `rateLimitExceeded` and `turn/completed`. False when the
 * turn must not send the request.
 */
export async function admitRound(ctx: TurnContext, turn: ActiveTurn, request: ModelRequest): Promise<boolean> {
  const admission = ctx.admission;
  const payer = turn.payer;
  if (admission === null || payer === null) return true;
  request.maxOutputTokens = admission.maxOutputTokens;
  if (turn.heldRound === turn.modelRound) return true;
  const round = turn.modelRound;
  const r = await admission.admitRound(payer, turn.id, round, request.model, estimateInputTokens(request));
  if (r.admitted) {
    turn.heldRound = round;
    if (turn.finished) {
      releaseHeld(admission, turn, ctx.logger);
      return false;
    }
    return true;
  }
  if (turn.finished) return false;
  const [updated] = refusalNotifications(r.refusal, ctx.threadId, turn.id);
  turn.emit(updated.method, updated.params);
  await ctx.endTurn(turn, { status: "failed", error: refusalTurnError(r.refusal), streamStarted: false });
  return false;
}

/**
 * Settles the round the model just answered with the usage it reported (a response without usage is
 * charged its whole reservation); the snapshot that follows for `account/rateLimits/updated`, or null
 * when admission is off or the settlement failed (logged; the reservation lapses unsettled).
 *
 * `last`: the round ends the turn (it asked for no tool and no input waits). Its settlement need not
 * hold `turn/completed` back: a round admitted from the host's budget slice is answered from the slice's
 * figures and written in the background. A completed turn is never continued by another host, so no
 * adopter can look for that round's settlement before it lands. Other rounds settle in the store first.
 */
export async function settleRound(ctx: TurnContext, turn: ActiveTurn, request: ModelRequest, usage: ModelUsage | null, last = false): Promise<RateLimitSnapshot | null> {
  const admission = ctx.admission;
  const payer = turn.payer;
  if (admission === null || payer === null) return null;
  const round = turn.modelRound;
  turn.heldRound = null;
  turn.modelRound++;
  const charged =
    usage === null
      ? { inputTokens: estimateInputTokens(request), cachedInputTokens: 0, outputTokens: admission.maxOutputTokens }
      : { inputTokens: usage.inputTokens, cachedInputTokens: usage.cachedInputTokens, outputTokens: usage.outputTokens };
  try {
    return await admission.settle(payer, turn.id, round, request.model, charged, { ahead: last });
  } catch (err) {
    ctx.logger.error({ err, threadId: ctx.threadId, turnId: turn.id, round }, "settling a model round failed");
    return null;
  }
}

/** Gives back the reservation of a request whose usage never reached the host (it failed or was interrupted). */
export function releaseHeld(admission: TurnAdmission, turn: ActiveTurn, logger: Logger): void {
  const payer = turn.payer;
  const round = turn.heldRound;
  if (payer === null || round === null) return;
  turn.heldRound = null;
  admission.release(payer, turn.id, round).catch((err: unknown) => logger.warn({ err, turnId: turn.id, round }, "releasing a model round's reservation failed"));
}

/** The turn ended on this host: an unsettled reservation goes back and the turn's slot is freed. */
export function endTurnAdmission(admission: TurnAdmission | null, tenant: string, turn: ActiveTurn, logger: Logger): void {
  if (admission === null || turn.payer === null) return;
  releaseHeld(admission, turn, logger);
  admission.endTurn(tenant, turn.id).catch((err: unknown) => logger.warn({ err, turnId: turn.id }, "freeing a turn's slot failed"));
}
