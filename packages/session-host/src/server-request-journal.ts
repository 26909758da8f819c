import type { ServerRequestRecord } from "@threadmesh/persistence";

/**
 * Where a thread's pending server requests are kept while they wait, so that a host adopting the thread
 * after its owner stopped can resolve them: the thread's ordered writer. Both calls queue and return.
 */
export interface ServerRequestJournal {
  putServerRequest(request: Omit<ServerRequestRecord, "tenantId" | "threadId">): void;
  deleteServerRequest(requestKey: string): void;
}

/**
 * The turn and item a server request belongs to, read from its params: every v2 server request the host
 * issues names its `turnId`, and its item as `itemId` (approvals, user input) or `callId` (dynamic tool
 * calls, whose item id is the call id).
 */
export function requestScope(params: unknown): { turnId: string; itemId: string | null } {
  const p = (typeof params === "object" && params !== null ? params : {}) as Record<string, unknown>;
  const turnId = typeof p["turnId"] === "string" ? p["turnId"] : "";
  const item = p["itemId"] ?? p["callId"];
  return { turnId, itemId: typeof item === "string" ? item : null };
}
