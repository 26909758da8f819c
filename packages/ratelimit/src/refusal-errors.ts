import { ErrorCode, RpcError, type TurnError } from "@threadmesh/protocol";
import { codexErrorInfoOf, type Refusal } from "./refusal.ts";

/**
 * The JSON-RPC error answering a refused `turn/start` (or `turn/steer`): -32001, like every other
 * "retry later" answer of the mesh, with the refusal's sentence as message and
 * `data: {reason, retryAfterMs, rateLimits, codexErrorInfo}`.
 */
export function refusalToRpcError(refusal: Refusal): RpcError {
  return new RpcError(ErrorCode.Overloaded, refusal.message, {
    reason: refusal.reason,
    retryAfterMs: refusal.retryAfterMs,
    rateLimits: refusal.rateLimits,
    codexErrorInfo: codexErrorInfoOf(refusal.reason),
  });
}

/** The `TurnError` a turn ends `failed` with when its next round is refused. */
export function refusalTurnError(refusal: Refusal): TurnError {
  return { message: refusal.message, codexErrorInfo: codexErrorInfoOf(refusal.reason), additionalDetails: null, misalignment: null };
}

/**
 * The notifications a refused later round sends, in order: `account/rateLimits/updated` carrying the
 * snapshot with `rateLimitReachedType` set (Codex clients show the limit from it), then `error` with
 * `codexErrorInfo` `usageLimitExceeded` or `rateLimitExceeded` and `willRetry: false`. The turn then
 * ends `failed` with {@link refusalTurnError}.
 */
export function refusalNotifications(
  refusal: Refusal,
  threadId: string,
  turnId: string,
): [{ method: "account/rateLimits/updated"; params: { rateLimits: Refusal["rateLimits"] } }, { method: "error"; params: { threadId: string; turnId: string; error: TurnError; willRetry: false } }] {
  return [
    { method: "account/rateLimits/updated", params: { rateLimits: refusal.rateLimits } },
    { method: "error", params: { threadId, turnId, error: refusalTurnError(refusal), willRetry: false } },
  ];
}
