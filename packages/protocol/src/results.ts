import type { MethodName } from "./methods.ts";
import type { ThreadGoal } from "./wire/goal.ts";
import type { ThreadItem } from "./wire/items.ts";
import type { ApprovalsReviewer, AskForApproval, SandboxPolicy } from "./wire/policy.ts";
import type { RateLimitSnapshot, Thread, Turn } from "./wire/thread.ts";

/** A page of a listing. */
interface Page<T> {
  data: T[];
  nextCursor?: string | null;
  backwardsCursor?: string | null;
}

/** `ThreadReadState`: the first unread position of a thread (null: read) and its revision. */
export interface ThreadReadState {
  firstUnread?: ThreadUnreadPosition | null;
  revision: string;
}

/** `ThreadUnreadPosition`: marked unread from the start, or the earliest ended turn not read. */
export type ThreadUnreadPosition = { type: "threadStart" } | { type: "turn"; turnId: string };

/** The settings a thread runs with, answered by `thread/start`, `thread/resume` and `thread/fork`. */
export interface ThreadSettingsResponse {
  thread: Thread;
  model: string;
  modelProvider: string;
  cwd: string;
  approvalPolicy: AskForApproval;
  approvalsReviewer: ApprovalsReviewer;
  sandbox: SandboxPolicy;
  reasoningEffort?: string | null;
  serviceTier?: string | null;
  instructionSources?: string[];
  runtimeWorkspaceRoots?: string[];
  disabledPluginIds?: string[];
  activePermissionProfile?: unknown;
  multiAgentMode?: unknown;
}

/** `thread/resume` with `afterSeq` (a Threadmesh extension): whether the event window covered the gap, and how many messages it replays. */
export interface ReplayOutcome {
  recovered: boolean;
  events: number;
}

/**
 * The result of every client request Threadmesh serves, keyed by method: the shapes of the official
 * schema's response definitions (`METHODS[m].resultSchema`; a conformance test holds each type's fields
 * to its schema). Fields whose Codex structures Threadmesh does not interpret are `unknown`.
 */
export interface MethodResults {
  initialize: { userAgent: string; codexHome: string; platformFamily: string; platformOs: string };
  "thread/start": ThreadSettingsResponse;
  "thread/resume": ThreadSettingsResponse & {
    /** Threadmesh extension: present when the resume asked for `afterSeq`. */
    replay?: ReplayOutcome;
    initialTurnsPage?: unknown;
    turnsBackwardsCursor?: string | null;
    itemsBackwardsCursor?: string | null;
    collaborationMode?: unknown;
  };
  "thread/fork": ThreadSettingsResponse;
  "thread/archive": Record<string, never>;
  "thread/unarchive": { thread: Thread };
  "thread/delete": Record<string, never>;
  "thread/unsubscribe": { status: "notLoaded" | "notSubscribed" | "unsubscribed" };
  "thread/name/set": Record<string, never>;
  /** Threadmesh extension: who else in the tenant sees the thread and answers its approvals. */
  "thread/share/set": { sharedWith: string[]; approvers: string[] };
  "thread/list": Page<Thread> & { readStates?: Record<string, ThreadReadState> | null };
  "thread/search": Page<{ thread: Thread; snippet: string }>;
  "thread/search/stream": Page<{ thread: Thread; snippet: string }>;
  "thread/loaded/list": Omit<Page<string>, "backwardsCursor">;
  "thread/read": { thread: Thread; readState?: ThreadReadState | null };
  "thread/turns/list": Page<Turn>;
  "thread/items/list": Page<ThreadItem>;
  "thread/readState/update": { readState: ThreadReadState };
  "thread/goal/get": { goal?: ThreadGoal | null };
  "thread/goal/set": { goal: ThreadGoal };
  "thread/goal/clear": { cleared: boolean };
  "thread/backgroundTerminals/list": Omit<Page<{ itemId: string; processId: string; command: string; cwd: string; osPid?: number | null; cpuPercent?: number | null; rssKb?: number | null }>, "backwardsCursor">;
  "thread/backgroundTerminals/clean": Record<string, never>;
  "thread/backgroundTerminals/terminate": { terminated: boolean };
  "turn/start": { turn: Turn };
  "turn/steer": { turnId: string };
  "turn/interrupt": Record<string, never>;
  "modelProvider/default/set": { status: "ok" | "okOverridden"; version: string; filePath: string; overriddenMetadata?: unknown };
  "model/list": {
    data: Array<{ id: string; model: string; displayName: string; description: string; hidden: boolean; isDefault: boolean; defaultReasoningEffort: string; supportedReasoningEfforts: unknown[] }>;
    nextCursor?: string | null;
  };
  "account/rateLimits/read": {
    rateLimits: RateLimitSnapshot;
    rateLimitsByLimitId?: Record<string, RateLimitSnapshot> | null;
    accountId?: string | null;
    ordinaryUsageAllowed?: boolean | null;
    rateLimitResetCredits?: unknown;
    rateLimitUpsell?: unknown;
  };
  "account/read": { requiresOpenaiAuth: boolean; account?: unknown; userId?: string | null; workspaceRouting?: unknown };
  "account/usage/read": { summary: Record<string, number | null>; dailyUsageBuckets?: unknown[] | null; threadUsage?: unknown };
  "app/list": { data: unknown[]; nextCursor?: string | null };
  "app/installed": { apps: unknown[] };
  "account/bedrock/checkGovCloudRequirements": { isGovCloud: boolean; shouldWarn: boolean };
  "config/read": { config: Record<string, unknown>; origins: Record<string, unknown>; layers?: unknown[] | null };
  "configRequirements/read": { requirements?: Record<string, unknown> | null; supportsIndependentSpeedModes?: boolean | null };
  "collaborationMode/list": { data: unknown[] };
  "hooks/list": { data: unknown[] };
  "skills/list": { data: unknown[] };
  "plugin/installed": { marketplaces: unknown[]; marketplaceLoadErrors?: unknown[] };
}

/** The result of `method`. */
export type ResultOf<M extends MethodName> = MethodResults[M];

/** Compile-time check: every method of `METHODS` has a result type, and no result type names another method. */
const everyMethodHasResult: [Exclude<MethodName, keyof MethodResults> | Exclude<keyof MethodResults, MethodName>] extends [never] ? true : never = true;
void everyMethodHasResult;
