import type { PendingRequests } from "../pending-requests.ts";

/**
 * A client's approval decision, reduced to what the turn does with it. `failed`: the client answered
 * with a JSON-RPC error or an unusable result. `cleared`: the request was resolved by lifecycle cleanup
 * (the turn ended first).
 */
export type ApprovalOutcome = "accept" | "acceptForSession" | "decline" | "cancel" | "failed" | "cleared";

/** Sends an approval request to the thread's subscribers and waits for the first answer. */
export async function requestApproval(pending: PendingRequests, method: string, params: unknown): Promise<ApprovalOutcome> {
  const answer = await pending.request(method, params);
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
