import { z } from "zod";
import { UserIdSchema } from "./tenancy.ts";

/**
 * Runtime schemas for the params of every client request Threadmesh accepts. Unknown keys are kept
 * (`looseObject`) so that forwarded params lose nothing; the router validates, the host trusts.
 */

const str = z.string();
const optStr = z.string().nullish();
const optBool = z.boolean().nullish();
const u32 = z.number().int().min(0).max(4294967295);

export const TextElementSchema = z.looseObject({
  byteRange: z.object({ start: u32, end: u32 }),
  placeholder: optStr,
});

export const UserInputSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text"), text: str, text_elements: z.array(TextElementSchema).nullish() }),
  z.looseObject({ type: z.literal("image"), url: optStr, fileId: optStr, detail: optStr }),
  z.looseObject({ type: z.literal("localImage"), path: str, detail: optStr }),
  z.looseObject({ type: z.literal("audio"), url: optStr, fileId: optStr }),
  z.looseObject({ type: z.literal("localAudio"), path: str }),
  z.looseObject({ type: z.literal("skill"), name: str, path: str }),
  z.looseObject({ type: z.literal("mention"), name: str, path: str }),
]);

export const AskForApprovalSchema = z.union([
  z.enum(["untrusted", "on-request", "never"]),
  z.object({
    granular: z.looseObject({
      sandbox_approval: z.boolean(),
      rules: z.boolean(),
      mcp_elicitations: z.boolean(),
      skill_approval: z.boolean().optional(),
      request_permissions: z.boolean().optional(),
    }),
  }),
]);

export const SandboxModeSchema = z.enum(["read-only", "workspace-write", "danger-full-access"]);

export const SandboxPolicySchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("dangerFullAccess") }),
  z.looseObject({ type: z.literal("readOnly"), networkAccess: optBool }),
  z.looseObject({
    type: z.literal("workspaceWrite"),
    writableRoots: z.array(str).nullish(),
    networkAccess: optBool,
    excludeTmpdirEnvVar: optBool,
    excludeSlashTmp: optBool,
  }),
  z.looseObject({ type: z.literal("externalSandbox"), networkAccess: z.enum(["restricted", "enabled"]).nullish() }),
]);

const DynamicToolFunctionSchema = z.looseObject({
  type: z.literal("function").optional(),
  name: str,
  description: z.string().default(""),
  inputSchema: z.unknown(),
  deferLoading: z.boolean().optional(),
});
export const DynamicToolSpecSchema = z.union([
  z.looseObject({
    type: z.literal("namespace"),
    name: str,
    description: z.string().default(""),
    tools: z.array(DynamicToolFunctionSchema.omit({ type: true })),
  }),
  DynamicToolFunctionSchema,
]);

const threadSettings = {
  model: optStr,
  modelProvider: optStr,
  serviceTier: optStr,
  cwd: optStr,
  approvalPolicy: AskForApprovalSchema.nullish(),
  approvalsReviewer: z.enum(["user", "auto_review", "guardian_subagent"]).nullish(),
  sandbox: SandboxModeSchema.nullish(),
  config: z.record(z.string(), z.unknown()).nullish(),
  baseInstructions: optStr,
  developerInstructions: optStr,
  personality: z.enum(["none", "friendly", "pragmatic"]).nullish(),
};

export const InitializeParams = z.looseObject({
  clientInfo: z.looseObject({ name: str, title: optStr, version: str }),
  capabilities: z
    .looseObject({
      experimentalApi: optBool,
      optOutNotificationMethods: z.array(str).nullish(),
    })
    .nullish(),
});

export const ThreadStartParams = z.looseObject({
  ...threadSettings,
  serviceName: optStr,
  ephemeral: optBool,
  sessionStartSource: z.enum(["startup", "clear"]).nullish(),
  threadSource: optStr,
  dynamicTools: z.array(DynamicToolSpecSchema).nullish(),
  /** Built-in permission profile id (`:read-only`, `:workspace`, `:danger-full-access`); experimental. */
  permissions: optStr,
});

export const ThreadResumeParams = z.looseObject({
  threadId: str,
  excludeTurns: optBool,
  ...threadSettings,
  /** Built-in permission profile (replaces the thread's sandbox and profile); experimental. */
  permissions: optStr,
  /** Threadmesh extension: replay thread events after this sequence number. */
  afterSeq: z.number().int().min(0).nullish(),
});

export const ThreadForkParams = z.looseObject({
  threadId: str,
  ephemeral: optBool,
  excludeTurns: optBool,
  lastTurnId: optStr,
  threadSource: optStr,
  ...threadSettings,
  /** Built-in permission profile (replaces the fork's sandbox and profile); experimental. */
  permissions: optStr,
});

const threadOnly = z.looseObject({ threadId: str });
export const ThreadArchiveParams = threadOnly;
export const ThreadUnarchiveParams = threadOnly;
export const ThreadDeleteParams = threadOnly;
export const ThreadUnsubscribeParams = threadOnly;
export const ThreadSetNameParams = z.looseObject({ threadId: str, name: str });

/**
 * `thread/share/set` (a Threadmesh extension): replaces the users of the tenant a thread is shared with
 * (they see it and act on it) and those of them the owner delegates its approvals to.
 */
export const ThreadShareSetParams = z.looseObject({
  threadId: str,
  users: z.array(UserIdSchema).max(64, "a thread is shared with at most 64 users"),
  approvers: z.array(UserIdSchema).max(64, "at most 64 approvers").nullish(),
});

export const ThreadListParams = z.looseObject({
  cursor: optStr,
  limit: u32.nullish(),
  sortKey: z.enum(["created_at", "updated_at", "recency_at", "section_position"]).nullish(),
  sortDirection: z.enum(["asc", "desc"]).nullish(),
  modelProviders: z.array(str).nullish(),
  sourceKinds: z.array(str).nullish(),
  archived: optBool,
  cwd: z.union([str, z.array(str)]).nullish(),
  searchTerm: optStr,
  excludedThreadIds: z.array(str).max(100).nullish(),
  /** Codex 0.171: only these threads (at most 100). */
  includedThreadIds: z.array(str).max(100).nullish(),
});

export const ThreadLoadedListParams = z.looseObject({ cursor: optStr, limit: u32.nullish() });
export const ThreadReadParams = z.looseObject({ threadId: str, includeTurns: optBool });
export const ThreadTurnsListParams = z.looseObject({
  threadId: str,
  cursor: optStr,
  limit: u32.nullish(),
  sortDirection: z.enum(["asc", "desc"]).nullish(),
  itemsView: z.enum(["notLoaded", "summary", "full"]).nullish(),
});
export const ThreadItemsListParams = z.looseObject({
  threadId: str,
  turnId: optStr,
  cursor: z.union([str, z.looseObject({ type: z.literal("item"), itemId: str })]).nullish(),
  limit: u32.nullish(),
  sortDirection: z.enum(["asc", "desc"]).nullish(),
});

export const TurnStartParams = z.looseObject({
  threadId: str,
  input: z.array(UserInputSchema),
  clientUserMessageId: optStr,
  cwd: optStr,
  approvalPolicy: AskForApprovalSchema.nullish(),
  approvalsReviewer: z.enum(["user", "auto_review", "guardian_subagent"]).nullish(),
  sandboxPolicy: SandboxPolicySchema.nullish(),
  model: optStr,
  serviceTier: optStr,
  effort: optStr,
  summary: z.enum(["auto", "concise", "detailed", "none"]).nullish(),
  outputSchema: z.unknown().optional(),
  /** Built-in permission profile for this turn and later ones; not with `sandboxPolicy`; experimental. */
  permissions: optStr,
});
export const TurnSteerParams = z.looseObject({
  threadId: str,
  input: z.array(UserInputSchema),
  expectedTurnId: str,
  clientUserMessageId: optStr,
});
export const TurnInterruptParams = z.looseObject({ threadId: str, turnId: str });

export const ModelListParams = z.looseObject({
  cursor: optStr,
  limit: u32.nullish(),
  includeHidden: optBool,
  modelProvider: optStr,
});
export const ConfigReadParams = z.looseObject({ cwd: optStr, includeLayers: z.boolean().optional() });
export const RateLimitsReadParams = z.looseObject({}).nullish();
export const AnyObjectParams = z.looseObject({});
export const NullableObjectParams = z.looseObject({}).nullish();
export const ThreadReadStateUpdateParams = z.looseObject({
  threadId: str,
  expectedRevision: str,
  operation: z.looseObject({ type: z.enum(["read", "unread"]) }),
});

/** `thread/backgroundTerminals/list` (experimental): threads here run no background terminals. */
export const ThreadBackgroundTerminalsListParams = z.looseObject({ threadId: str, cursor: optStr, limit: u32.nullish() });
export const ThreadBackgroundTerminalsCleanParams = threadOnly;
export const ThreadBackgroundTerminalsTerminateParams = z.looseObject({ threadId: str, processId: str });

const ThreadGoalStatusSchema = z.enum(["active", "paused", "blocked", "usageLimited", "budgetLimited", "complete"]);
const ThreadGoalOriginSchema = z.enum(["user", "automatic"]);
const i64 = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
export const ThreadGoalGetParams = threadOnly;
export const ThreadGoalSetParams = z.looseObject({
  threadId: str,
  objective: optStr,
  status: ThreadGoalStatusSchema.nullish(),
  tokenBudget: i64.nullish(),
  origin: ThreadGoalOriginSchema.nullish(),
});
export const ThreadGoalClearParams = z.looseObject({ threadId: str, origin: ThreadGoalOriginSchema.nullish() });

/** `thread/search` and `thread/search/stream` (experimental; the stream form is Codex 0.171). */
export const ThreadSearchParams = z.looseObject({
  searchTerm: str,
  cursor: optStr,
  limit: u32.nullish(),
  sortKey: z.enum(["created_at", "updated_at", "recency_at"]).nullish(),
  sortDirection: z.enum(["asc", "desc"]).nullish(),
  archived: optBool,
  sourceKinds: z.array(str).nullish(),
});

/** `modelProvider/default/set` (Codex 0.171). */
export const ModelProviderDefaultSetParams = z.looseObject({ providerId: str });
