import type {
  CommandExecutionApprovalDecision,
  FileChangeApprovalDecision,
  NotificationMethod,
  NotificationParams,
  ServerRequestMethod,
  ServerRequests,
} from "@threadmesh/protocol";

export { NOTIFICATION_METHODS } from "@threadmesh/protocol";
export type { NotificationMethod, ServerRequestMethod };

/** Params of the notifications Threadmesh sends, by method: the protocol package's types. */
export type NotificationMap = NotificationParams;

/**
 * One notification as the application sees it. `seq` is the thread's event number (null on frames
 * that carry none); a frame of merged deltas also has `firstSeq`.
 */
export type ServerEvent = {
  [M in NotificationMethod]: { method: M; params: NotificationParams[M]; seq: number | null; firstSeq?: number };
}[NotificationMethod];

/** A notification whose method this SDK does not know (a newer server); delivered as it came. */
export interface UnknownEvent {
  method: string;
  params: unknown;
  seq: number | null;
  firstSeq?: number;
}

/** Requests the server sends to the client, with the params they carry and the answer they expect: the protocol package's types. */
export type ServerRequestMap = ServerRequests;
export type ApprovalMethod = "item/commandExecution/requestApproval" | "item/fileChange/requestApproval";
export type ApprovalDecision = CommandExecutionApprovalDecision | FileChangeApprovalDecision;
