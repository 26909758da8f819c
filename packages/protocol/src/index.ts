export { newId, isUuid, nowSeconds } from "./ids.ts";
export { CODEX_COMPAT_VERSION } from "./compat-version.ts";
export {
  ErrorCode,
  RpcError,
  InvalidRequestError,
  InvalidParamsError,
  MethodNotFoundError,
  InternalError,
  OverloadedError,
  ThreadNotFoundError,
  toRpcError,
  isRpcErrorShape,
} from "./errors.ts";
export { parseInbound, encodeResult, encodeError, encodeNotification, encodeServerRequest } from "./jsonrpc.ts";
export { splitEventBatch, frameMethod } from "./event-batch.ts";
export { METHODS, isKnownMethod, THREAD_SCOPED_NOTIFICATIONS, BROADCAST_NOTIFICATIONS } from "./methods.ts";
export {
  NOTIFICATION_METHODS,
  NOTIFICATION_SCHEMAS,
  THREAD_SCOPED_NOTIFICATION_METHODS,
  BROADCAST_NOTIFICATION_METHODS,
  REQUESTER_NOTIFICATION_METHODS,
} from "./notifications.ts";
export type { NotificationParams, NotificationMethod, ThreadSettingsView, TurnPlanStepStatus } from "./notifications.ts";
export { SERVER_REQUEST_METHODS, SERVER_REQUEST_SCHEMAS } from "./server-requests.ts";
export type { ServerRequests, ServerRequestMethod, ServerRequestParams, ServerRequestResult } from "./server-requests.ts";
export type { MethodResults, ResultOf, ThreadSettingsResponse, ReplayOutcome, ThreadReadState } from "./results.ts";
export type { ThreadGoal, ThreadGoalStatus } from "./wire/goal.ts";
export {
  DEFAULT_LIMITS,
  LimitReason,
  resolveLimits,
  sameLimitsForAll,
  fieldTooLarge,
  nestingTooDeep,
  connectionThreadLimit,
  tenantThreadLimit,
} from "./limits.ts";
export type { TenantLimits, LimitsResolver } from "./limits.ts";
export { applyParamLimits } from "./param-limits.ts";
export { scanJsonDepth } from "./json-depth-scan.ts";
export type { DepthScan } from "./json-depth-scan.ts";
export { validateParams, methodSpec, describeIssue, DEFAULT_MAX_INPUT_CHARS } from "./validate.ts";
export {
  SUBJECT_PREFIX,
  threadCommandSubject,
  placeSubject,
  PLACE_WILDCARD,
  HOST_QUEUE_GROUP,
  hostSubject,
  hostWildcard,
  threadEventSubject,
  broadcastSubject,
  BROADCAST_WILDCARD,
  THREAD_EVENT_WILDCARD,
  EVENT_STREAM_SUBJECT,
  tenantBroadcastWildcard,
  threadReplayFilter,
  assertSubjectToken,
  isSubjectToken,
  HOST_HEARTBEAT_WILDCARD,
  hostHeartbeatSubject,
  subjectTemplate,
} from "./subjects.ts";
export {
  ENVELOPE_VERSION,
  MeshMethod,
  EventHeader,
  encodeEnvelope,
  decodeEnvelope,
  TEXT_ENCODER,
  TEXT_DECODER,
} from "./envelopes.ts";
export { DEADLINE_VERSION, requestDeadline, anchorDeadline, deadlineLeftMs, deadlineExceeded } from "./request-deadline.ts";
export type { RequestDeadline } from "./request-deadline.ts";
export { PlacementRefusal, placementRefusal, readRefusal } from "./placement.ts";
export { sandboxPolicyFromMode } from "./wire/policy.ts";
export { emptyUsage, defaultRateLimits } from "./wire/thread.ts";
export * as Params from "./params.ts";

export type { RpcErrorShape } from "./errors.ts";
export type { RequestId, TraceField, InboundMessage, InboundLimits } from "./jsonrpc.ts";
export type { Route, MethodSpec, MethodName, ParamsOf } from "./methods.ts";
export type { ValidateOptions } from "./validate.ts";
export type {
  Origin,
  CommandEnvelope,
  ReplyEnvelope,
  ReplyOk,
  ReplyErr,
  PendingServerRequest,
  RespondServerRequestParams,
  ConnectionClosedParams,
  RecentEventsParams,
  RecentEventsResult,
  EventKind,
} from "./envelopes.ts";
export type {
  AskForApproval,
  SandboxMode,
  SandboxPolicy,
  ApprovalsReviewer,
  CommandExecutionApprovalDecision,
  FileChangeApprovalDecision,
} from "./wire/policy.ts";
export type {
  TextElement,
  UserInput,
  CommandAction,
  PatchChangeKind,
  FileUpdateChange,
  DynamicToolCallOutputContentItem,
  UserMessageItem,
  AgentMessageItem,
  ReasoningItem,
  CommandExecutionItem,
  CommandExecutionStatus,
  FileChangeItem,
  PatchApplyStatus,
  DynamicToolCallItem,
  PlanItem,
  ThreadItem,
  ThreadItemType,
} from "./wire/items.ts";
export type {
  ThreadActiveFlag,
  ThreadStatus,
  TurnStatus,
  TurnError,
  Turn,
  ThreadEnvironment,
  Thread,
  TokenUsageBreakdown,
  ThreadTokenUsage,
  RateLimitWindow,
  RateLimitSnapshot,
} from "./wire/thread.ts";
export {
  TenantIdSchema,
  TenantNameSchema,
  PlanIdSchema,
  PriorityClassSchema,
  TenantStatusSchema,
  UserIdSchema,
  ApiKeyNameSchema,
  ScopeSchema,
  ScopesSchema,
  CredentialEventSchema,
  CREDENTIAL_EVENTS_SUBJECT,
  MaxSandboxSchema,
  ApprovalPolicyNameSchema,
  PolicyLimitsSchema,
  firstIssue,
} from "./tenancy.ts";
export type { TenantStatus, CredentialEvent, PolicyLimits } from "./tenancy.ts";
export { HostDrainRequestSchema, HostDrainReplySchema, hostDrainSubject } from "./host-drain.ts";
export type { HostDrainRequest, HostDrainReply } from "./host-drain.ts";
