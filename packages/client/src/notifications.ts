import type {
  CommandExecutionApprovalDecision,
  FileChangeApprovalDecision,
  RateLimitSnapshot,
  RequestId,
  Thread,
  ThreadItem,
  ThreadStatus,
  ThreadTokenUsage,
  Turn,
  TurnError,
} from "@threadmesh/protocol";

/**
 * Params of the notifications Threadmesh sends, built from the protocol package's wire types. The
 * method names are those of the protocol's `THREAD_SCOPED_NOTIFICATIONS` and `BROADCAST_NOTIFICATIONS`
 * (a test holds the two lists equal); the protocol package has no params types for them.
 */
interface OfThread {
  threadId: string;
}
interface OfTurn extends OfThread {
  turnId: string;
}
interface Delta extends OfTurn {
  itemId: string;
  delta: string;
}

export interface NotificationMap {
  "thread/started": { thread: Thread };
  "thread/status/changed": OfThread & { status: ThreadStatus };
  "thread/name/updated": OfThread & { threadName?: string | null };
  "thread/archived": OfThread;
  "thread/unarchived": OfThread;
  "thread/deleted": OfThread;
  "thread/closed": OfThread;
  "thread/tokenUsage/updated": OfTurn & { tokenUsage: ThreadTokenUsage };
  "turn/started": OfThread & { turn: Turn };
  "turn/completed": OfThread & { turn: Turn };
  "turn/diff/updated": OfTurn & { diff: string };
  "turn/plan/updated": OfTurn & { explanation: string | null; plan: Array<{ step: string; status: string }> };
  "item/started": OfTurn & { item: ThreadItem };
  "item/completed": OfTurn & { item: ThreadItem };
  "item/agentMessage/delta": Delta;
  "item/reasoning/summaryTextDelta": Delta & { summaryIndex: number };
  "item/reasoning/summaryPartAdded": OfTurn & { itemId: string; summaryIndex: number };
  "item/reasoning/textDelta": Delta & { contentIndex: number };
  "item/commandExecution/outputDelta": Delta;
  "item/fileChange/outputDelta": Delta;
  "serverRequest/resolved": OfThread & { requestId: RequestId };
  error: OfTurn & { error: TurnError; willRetry: boolean };
  warning: Partial<OfThread> & { message: string };
  "account/rateLimits/updated": { rateLimits: RateLimitSnapshot };
  "thread/goal/updated": OfThread & Record<string, unknown>;
  "thread/goal/cleared": OfThread;
}

export type NotificationMethod = keyof NotificationMap;

/** Every method of {@link NotificationMap}, at run time. */
export const NOTIFICATION_METHODS = [
  "thread/started",
  "thread/status/changed",
  "thread/name/updated",
  "thread/archived",
  "thread/unarchived",
  "thread/deleted",
  "thread/closed",
  "thread/tokenUsage/updated",
  "turn/started",
  "turn/completed",
  "turn/diff/updated",
  "turn/plan/updated",
  "item/started",
  "item/completed",
  "item/agentMessage/delta",
  "item/reasoning/summaryTextDelta",
  "item/reasoning/summaryPartAdded",
  "item/reasoning/textDelta",
  "item/commandExecution/outputDelta",
  "item/fileChange/outputDelta",
  "serverRequest/resolved",
  "error",
  "warning",
  "account/rateLimits/updated",
  "thread/goal/updated",
  "thread/goal/cleared",
] as const satisfies readonly NotificationMethod[];

/**
 * One notification as the application sees it. `seq` is the thread's event number (null on frames
 * that carry none); a frame of merged deltas also has `firstSeq`.
 */
export type ServerEvent = {
  [M in NotificationMethod]: { method: M; params: NotificationMap[M]; seq: number | null; firstSeq?: number };
}[NotificationMethod];

/** A notification whose method this SDK does not know (a newer server); delivered as it came. */
export interface UnknownEvent {
  method: string;
  params: unknown;
  seq: number | null;
  firstSeq?: number;
}

interface Approval extends OfTurn {
  itemId: string;
  reason?: string | null;
  [key: string]: unknown;
}

/** Requests the server sends to the client, with the params they carry and the answer they expect. */
export interface ServerRequestMap {
  "item/commandExecution/requestApproval": {
    params: Approval & { command?: string; cwd?: string };
    result: { decision: CommandExecutionApprovalDecision };
  };
  "item/fileChange/requestApproval": {
    params: Approval & { grantRoot?: string | null };
    result: { decision: FileChangeApprovalDecision };
  };
  "item/tool/requestUserInput": {
    params: OfTurn & { itemId: string; questions: unknown[]; [key: string]: unknown };
    result: { answers: Record<string, unknown> };
  };
  "item/tool/call": {
    params: OfTurn & { callId: string; tool: string; arguments: unknown; [key: string]: unknown };
    result: { contentItems: unknown[]; success: boolean };
  };
}

export type ServerRequestMethod = keyof ServerRequestMap;
export type ApprovalMethod = "item/commandExecution/requestApproval" | "item/fileChange/requestApproval";
export type ApprovalDecision = CommandExecutionApprovalDecision | FileChangeApprovalDecision;
