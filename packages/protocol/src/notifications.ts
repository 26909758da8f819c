import type { RequestId } from "./jsonrpc.ts";
import type { ThreadGoal } from "./wire/goal.ts";
import type { ThreadItem } from "./wire/items.ts";
import type { AskForApproval, SandboxPolicy } from "./wire/policy.ts";
import type { ThreadReadState } from "./results.ts";
import type { RateLimitSnapshot, Thread, ThreadStatus, ThreadTokenUsage, Turn, TurnError } from "./wire/thread.ts";

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

/** A thread's settings as `thread/settings/updated` reports them (Codex's `ThreadSettings`, with the fields it also sends). */
export interface ThreadSettingsView {
  disabledPluginIds: string[];
  cwd: string;
  environments: Array<{ environmentId: string; cwd: string; runtimeWorkspaceRoots: string[] }>;
  approvalPolicy: AskForApproval;
  approvalsReviewer: string;
  sandboxPolicy: SandboxPolicy;
  activePermissionProfile: { id: string; extends: string | null } | null;
  model: string;
  modelProvider: string;
  serviceTier: string | null;
  effort: string | null;
  summary: string | null;
  collaborationMode: { mode: "default"; settings: { model: string; reasoning_effort: null; developer_instructions: null } };
  multiAgentMode: "explicitRequestOnly";
  personality: null;
}

export type TurnPlanStepStatus = "pending" | "inProgress" | "completed";

/**
 * Params of every notification Threadmesh sends, keyed by method: the shapes of the official schema's
 * `<Name>Notification` definitions (a conformance test holds each type's fields to its schema).
 */
export interface NotificationParams {
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
  "turn/plan/updated": OfTurn & { explanation?: string | null; plan: Array<{ step: string; status: TurnPlanStepStatus }> };
  "item/started": OfTurn & { item: ThreadItem; startedAtMs: number };
  "item/completed": OfTurn & { item: ThreadItem; completedAtMs: number; contentTokenCount?: number | null };
  "item/agentMessage/delta": Delta;
  "item/reasoning/summaryTextDelta": Delta & { summaryIndex: number };
  "item/reasoning/summaryPartAdded": OfTurn & { itemId: string; summaryIndex: number };
  "item/reasoning/textDelta": Delta & { contentIndex: number };
  "item/commandExecution/outputDelta": Delta;
  "item/fileChange/outputDelta": Delta;
  "serverRequest/resolved": OfThread & { requestId: RequestId };
  error: OfTurn & { error: TurnError; willRetry: boolean };
  warning: { message: string; threadId?: string | null };
  "account/rateLimits/updated": { rateLimits: RateLimitSnapshot };
  "thread/goal/updated": OfThread & { goal: ThreadGoal; turnId?: string | null };
  "thread/goal/cleared": OfThread;
  "thread/settings/updated": OfThread & { threadSettings: ThreadSettingsView };
  deprecationNotice: { summary: string; details?: string | null };
  "thread/search/partial": { requestId: RequestId; data: Array<{ thread: Thread; snippet: string }> };
  "thread/readState/changed": OfThread & { readState: ThreadReadState };
}

export type NotificationMethod = keyof NotificationParams;

/** Thread-scoped notifications: delivered to subscribers of the thread. */
export const THREAD_SCOPED_NOTIFICATION_METHODS = [
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
  "thread/settings/updated",
] as const satisfies readonly NotificationMethod[];

/** Notifications delivered to every initialized connection of the tenant. */
export const BROADCAST_NOTIFICATION_METHODS = [
  "thread/started",
  "thread/status/changed",
  "thread/name/updated",
  "thread/archived",
  "thread/unarchived",
  "thread/deleted",
  "thread/closed",
] as const satisfies readonly NotificationMethod[];

/** Notifications sent to the connection whose request they accompany only. */
export const REQUESTER_NOTIFICATION_METHODS = ["deprecationNotice", "thread/search/partial", "thread/readState/changed"] as const satisfies readonly NotificationMethod[];

/** Every notification method Threadmesh sends (the compiler holds it equal to {@link NotificationMethod}). */
export const NOTIFICATION_METHODS: readonly NotificationMethod[] = [
  ...THREAD_SCOPED_NOTIFICATION_METHODS,
  ...BROADCAST_NOTIFICATION_METHODS,
  ...REQUESTER_NOTIFICATION_METHODS,
] satisfies readonly Listed[];

type Listed = (typeof THREAD_SCOPED_NOTIFICATION_METHODS)[number] | (typeof BROADCAST_NOTIFICATION_METHODS)[number] | (typeof REQUESTER_NOTIFICATION_METHODS)[number];
/** Compile-time check: a method in {@link NotificationParams} that no list names is an error here. */
const everyMethodListed: [Exclude<NotificationMethod, Listed>] extends [never] ? true : Exclude<NotificationMethod, Listed> = true;
void everyMethodListed;

/** Official schema definition of each notification's params, for conformance tests. */
export const NOTIFICATION_SCHEMAS: { readonly [M in NotificationMethod]: string } = {
  "thread/started": "ThreadStartedNotification",
  "thread/status/changed": "ThreadStatusChangedNotification",
  "thread/name/updated": "ThreadNameUpdatedNotification",
  "thread/archived": "ThreadArchivedNotification",
  "thread/unarchived": "ThreadUnarchivedNotification",
  "thread/deleted": "ThreadDeletedNotification",
  "thread/closed": "ThreadClosedNotification",
  "thread/tokenUsage/updated": "ThreadTokenUsageUpdatedNotification",
  "turn/started": "TurnStartedNotification",
  "turn/completed": "TurnCompletedNotification",
  "turn/diff/updated": "TurnDiffUpdatedNotification",
  "turn/plan/updated": "TurnPlanUpdatedNotification",
  "item/started": "ItemStartedNotification",
  "item/completed": "ItemCompletedNotification",
  "item/agentMessage/delta": "AgentMessageDeltaNotification",
  "item/reasoning/summaryTextDelta": "ReasoningSummaryTextDeltaNotification",
  "item/reasoning/summaryPartAdded": "ReasoningSummaryPartAddedNotification",
  "item/reasoning/textDelta": "ReasoningTextDeltaNotification",
  "item/commandExecution/outputDelta": "CommandExecutionOutputDeltaNotification",
  "item/fileChange/outputDelta": "FileChangeOutputDeltaNotification",
  "serverRequest/resolved": "ServerRequestResolvedNotification",
  error: "ErrorNotification",
  warning: "WarningNotification",
  "account/rateLimits/updated": "AccountRateLimitsUpdatedNotification",
  "thread/goal/updated": "ThreadGoalUpdatedNotification",
  "thread/goal/cleared": "ThreadGoalClearedNotification",
  "thread/settings/updated": "ThreadSettingsUpdatedNotification",
  deprecationNotice: "DeprecationNoticeNotification",
  "thread/search/partial": "ThreadSearchPartialNotification",
  "thread/readState/changed": "ThreadReadStateChangedNotification",
};
