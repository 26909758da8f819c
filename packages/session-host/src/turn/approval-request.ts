import { SpanAttr } from "@threadmesh/telemetry";
import type { PendingRequests, ServerRequestAnswer } from "../pending-requests.ts";
import type { ActiveTurn } from "./active-turn.ts";

/**
 * A client's approval decision, reduced to what the turn does with it. `failed`: the client answered
 * with a JSON-RPC error or an unusable result. `cleared`: the request was resolved by lifecycle cleanup
 * (the turn ended first).
 */
export type ApprovalOutcome = "accept" | "acceptForSession" | "decline" | "cancel" | "failed" | "cleared";

/**
 * Sends an approval request to the thread's subscribers and waits for the first answer, under a
 * `threadmesh.approval.wait` span of the turn (nested in the tool call's).
 */
export async function requestApproval<P extends { itemId: string }>(turn: ActiveTurn, pending: PendingRequests, method: string, params: P): Promise<ApprovalOutcome> {
  const span = turn.spans.start("threadmesh.approval.wait", { [SpanAttr.ItemId]: params.itemId, "threadmesh.approval.method": method });
  try {
    const outcome = approvalOutcome(await pending.request(method, params));
    span.setAttribute(SpanAttr.Outcome, outcome);
    return outcome;
  } finally {
    span.end();
  }
}

function approvalOutcome(answer: ServerRequestAnswer): ApprovalOutcome {
  if (answer.kind === "cancelled") return "cleared";
  if (answer.kind === "error") return "failed";
  const decision = (answer.result as { decision?: unknown } | null | undefined)?.decision;
  switch (decision) {
    case "accept":
    case "acceptForSession":
    case "decline":
    case "cancel":
      return decision;
    default:
      // Amendment decisions run the command like `accept`; persisting the rule is not supported.
      if (typeof decision === "object" && decision !== null && ("acceptWithExecpolicyAmendment" in decision || "applyNetworkPolicyAmendment" in decision)) {
        return "accept";
      }
      return "failed";
  }
}
