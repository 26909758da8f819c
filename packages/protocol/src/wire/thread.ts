import type { ThreadItem } from "./items.ts";

export type ThreadActiveFlag = "waitingOnApproval" | "waitingOnUserInput";

export type ThreadStatus =
  | { type: "notLoaded" }
  | { type: "idle" }
  | { type: "active"; activeFlags: ThreadActiveFlag[] }
  | { type: "systemError" };

export type TurnStatus = "inProgress" | "completed" | "interrupted" | "failed";

export interface TurnError {
  message: string;
  codexErrorInfo: unknown;
  additionalDetails: string | null;
  misalignment: null;
}

export interface Turn {
  id: string;
  rootTurnId: string | null;
  items: ThreadItem[];
  itemsView: "notLoaded" | "summary" | "full";
  status: TurnStatus;
  error: TurnError | null;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
}

export interface ThreadEnvironment {
  environmentId: string;
  cwd: string;
  runtimeWorkspaceRoots: string[];
}

/** `Thread` with every key Codex 0.169.0 emits. */
export interface Thread {
  id: string;
  sessionId: string;
  forkedFromId: string | null;
  parentThreadId: string | null;
  attachedToThreadId: string | null;
  preview: string;
  ephemeral: boolean;
  name: string | null;
  modelProvider: string;
  model: string | null;
  reasoningEffort: string | null;
  createdAt: number;
  updatedAt: number;
  recencyAt: number | null;
  status: ThreadStatus;
  path: string | null;
  cwd: string;
  cliVersion: string;
  originator: string | null;
  source: string;
  threadSource: string | null;
  agentNickname: string | null;
  agentRole: string | null;
  gitInfo: null;
  historyMode: "legacy" | "paginated";
  projectId: string | null;
  section: null;
  sectionEnteredAt: number | null;
  turns: Turn[];
  environments: ThreadEnvironment[] | null;
  extra: null;
  canAcceptDirectInput: boolean | null;
  daybreakEnabled: boolean | null;
}

export interface TokenUsageBreakdown {
  totalTokens: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
}

export interface ThreadTokenUsage {
  total: TokenUsageBreakdown;
  last: TokenUsageBreakdown;
  modelContextWindow: number | null;
}

export interface RateLimitWindow {
  usedPercent: number;
  windowDurationMins: number | null;
  resetsAt: number | null;
}

export interface RateLimitSnapshot {
  limitId: string | null;
  limitName: string | null;
  normalModelSlug: string | null;
  primary: RateLimitWindow | null;
  secondary: RateLimitWindow | null;
  credits: { hasCredits: boolean; unlimited: boolean; balance: string | null } | null;
  individualLimit: null;
  spendControlReached: boolean | null;
  planType: string | null;
  rateLimitReachedType: string | null;
}

export function emptyUsage(): TokenUsageBreakdown {
  return {
    totalTokens: 0,
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 0,
    reasoningOutputTokens: 0,
  };
}

/** The snapshot sent when no plan applies: `limitId` set, every other field null. */
export function defaultRateLimits(): RateLimitSnapshot {
  return {
    limitId: "codex",
    limitName: null,
    normalModelSlug: null,
    primary: null,
    secondary: null,
    credits: null,
    individualLimit: null,
    spendControlReached: null,
    planType: null,
    rateLimitReachedType: null,
  };
}
