import type { z } from "zod";
import * as P from "./params.ts";
import { BROADCAST_NOTIFICATION_METHODS, THREAD_SCOPED_NOTIFICATION_METHODS } from "./notifications.ts";

/**
 * Where a client request is served.
 * - `router`: answered by the router itself (handshake, catalogues, account and config reads).
 * - `place`: creates a thread; goes to the placement queue group of session hosts.
 * - `thread`: addressed to the host that owns `params.threadId`; when no host owns it, to the
 *   placement group, whose host serves it from the store or loads the thread as the method requires.
 * - `any`: any session host (store-backed listings).
 */
export type Route = "router" | "place" | "thread" | "any";

export interface MethodSpec {
  /** Runtime schema for `params`. */
  readonly params: z.ZodType;
  /** When true, omitted or `null` params are an error, as in Codex. */
  readonly paramsRequired: boolean;
  readonly route: Route;
  /** The whole method needs the `experimentalApi` capability. */
  readonly experimental?: boolean;
  /** Params fields that need the `experimentalApi` capability when present and non-null. */
  readonly experimentalFields?: readonly string[];
  /** Name of the official JSON Schema of the result (v2/<name>.json), for conformance tests. */
  readonly resultSchema: string;
  /** Text inputs of this method are subject to the input length limit. */
  readonly checksInput?: boolean;
}

/** Keeps each entry's own schema type (so `ParamsOf` is exact) while every entry still reads as a `MethodSpec`. */
const spec = <S extends MethodSpec>(s: S): S & MethodSpec => s;

/** The one table of client requests Threadmesh understands. Everything else is -32601. */
export const METHODS = {
  initialize: spec({ params: P.InitializeParams, paramsRequired: true, route: "router", resultSchema: "InitializeResponse" }),
  "thread/start": spec({
    params: P.ThreadStartParams,
    paramsRequired: true,
    route: "place",
    resultSchema: "ThreadStartResponse",
    experimentalFields: ["dynamicTools", "permissions", "environments", "historyMode", "projectId", "runtimeWorkspaceRoots", "experimentalRawEvents", "mockExperimentalField"],
  }),
  "thread/resume": spec({
    params: P.ThreadResumeParams,
    paramsRequired: true,
    route: "thread",
    resultSchema: "ThreadResumeResponse",
    experimentalFields: ["history", "path", "initialTurnsPage", "permissions", "runtimeWorkspaceRoots"],
  }),
  "thread/fork": spec({
    params: P.ThreadForkParams,
    paramsRequired: true,
    route: "place",
    resultSchema: "ThreadForkResponse",
    experimentalFields: ["path", "beforeTurnId", "attachToSource", "permissions", "runtimeWorkspaceRoots"],
  }),
  "thread/archive": spec({ params: P.ThreadArchiveParams, paramsRequired: true, route: "thread", resultSchema: "ThreadArchiveResponse" }),
  "thread/unarchive": spec({ params: P.ThreadUnarchiveParams, paramsRequired: true, route: "thread", resultSchema: "ThreadUnarchiveResponse" }),
  "thread/delete": spec({ params: P.ThreadDeleteParams, paramsRequired: true, route: "thread", resultSchema: "ThreadDeleteResponse" }),
  "thread/unsubscribe": spec({ params: P.ThreadUnsubscribeParams, paramsRequired: true, route: "thread", resultSchema: "ThreadUnsubscribeResponse" }),
  "thread/name/set": spec({ params: P.ThreadSetNameParams, paramsRequired: true, route: "thread", resultSchema: "ThreadSetNameResponse" }),
  /** Threadmesh extension (no Codex schema): who else in the tenant sees the thread and answers its approvals. */
  "thread/share/set": spec({ params: P.ThreadShareSetParams, paramsRequired: true, route: "thread", resultSchema: "" }),
  "thread/list": spec({ params: P.ThreadListParams, paramsRequired: true, route: "any", resultSchema: "ThreadListResponse" }),
  "thread/search": spec({ params: P.ThreadSearchParams, paramsRequired: true, route: "any", experimental: true, resultSchema: "ThreadSearchResponse" }),
  /** Matches also arrive as one `thread/search/partial {requestId, data}` before the response (Codex 0.171). */
  "thread/search/stream": spec({ params: P.ThreadSearchParams, paramsRequired: true, route: "any", experimental: true, resultSchema: "ThreadSearchResponse" }),
  "thread/loaded/list": spec({ params: P.ThreadLoadedListParams, paramsRequired: true, route: "any", resultSchema: "ThreadLoadedListResponse" }),
  "thread/read": spec({ params: P.ThreadReadParams, paramsRequired: true, route: "thread", resultSchema: "ThreadReadResponse" }),
  "thread/turns/list": spec({ params: P.ThreadTurnsListParams, paramsRequired: true, route: "thread", resultSchema: "ThreadTurnsListResponse" }),
  "thread/items/list": spec({ params: P.ThreadItemsListParams, paramsRequired: true, route: "thread", resultSchema: "ThreadItemsListResponse" }),
  "thread/readState/update": spec({ params: P.ThreadReadStateUpdateParams, paramsRequired: true, experimental: true, route: "thread", resultSchema: "ThreadReadStateUpdateResponse" }),
  "thread/goal/get": spec({ params: P.ThreadGoalGetParams, paramsRequired: true, route: "thread", resultSchema: "ThreadGoalGetResponse" }),
  "thread/goal/set": spec({ params: P.ThreadGoalSetParams, paramsRequired: true, route: "thread", resultSchema: "ThreadGoalSetResponse" }),
  "thread/goal/clear": spec({ params: P.ThreadGoalClearParams, paramsRequired: true, route: "thread", resultSchema: "ThreadGoalClearResponse" }),
  "thread/backgroundTerminals/list": spec({ params: P.ThreadBackgroundTerminalsListParams, paramsRequired: true, route: "thread", experimental: true, resultSchema: "ThreadBackgroundTerminalsListResponse" }),
  "thread/backgroundTerminals/clean": spec({ params: P.ThreadBackgroundTerminalsCleanParams, paramsRequired: true, route: "thread", experimental: true, resultSchema: "ThreadBackgroundTerminalsCleanResponse" }),
  "thread/backgroundTerminals/terminate": spec({ params: P.ThreadBackgroundTerminalsTerminateParams, paramsRequired: true, route: "thread", experimental: true, resultSchema: "ThreadBackgroundTerminalsTerminateResponse" }),
  "turn/start": spec({
    params: P.TurnStartParams,
    paramsRequired: true,
    route: "thread",
    resultSchema: "TurnStartResponse",
    checksInput: true,
    experimentalFields: ["collaborationMode", "additionalContext", "environments", "permissions", "runtimeWorkspaceRoots", "multiAgentMode"],
  }),
  "turn/steer": spec({
    params: P.TurnSteerParams,
    paramsRequired: true,
    route: "thread",
    resultSchema: "TurnSteerResponse",
    checksInput: true,
    experimentalFields: ["additionalContext"],
  }),
  "turn/interrupt": spec({ params: P.TurnInterruptParams, paramsRequired: true, route: "thread", resultSchema: "TurnInterruptResponse" }),
  "modelProvider/default/set": spec({ params: P.ModelProviderDefaultSetParams, paramsRequired: true, route: "router", resultSchema: "ConfigWriteResponse" }),
  "model/list": spec({ params: P.ModelListParams, paramsRequired: true, route: "router", resultSchema: "ModelListResponse" }),
  "account/rateLimits/read": spec({ params: P.NullableObjectParams, paramsRequired: false, route: "router", resultSchema: "GetAccountRateLimitsResponse" }),
  "account/read": spec({ params: P.AnyObjectParams, paramsRequired: true, route: "router", resultSchema: "GetAccountResponse" }),
  "account/usage/read": spec({ params: P.NullableObjectParams, paramsRequired: false, route: "router", resultSchema: "GetAccountTokenUsageResponse" }),
  "app/list": spec({ params: P.NullableObjectParams, paramsRequired: false, route: "router", resultSchema: "AppsListResponse" }),
  "app/installed": spec({ params: P.NullableObjectParams, paramsRequired: false, route: "router", resultSchema: "AppsInstalledResponse" }),
  "account/bedrock/checkGovCloudRequirements": spec({ params: P.AnyObjectParams, paramsRequired: true, route: "router", experimental: true, resultSchema: "BedrockCheckGovCloudRequirementsResponse" }),
  "config/read": spec({ params: P.ConfigReadParams, paramsRequired: true, route: "router", resultSchema: "ConfigReadResponse" }),
  "configRequirements/read": spec({ params: P.NullableObjectParams, paramsRequired: false, route: "router", resultSchema: "ConfigRequirementsReadResponse" }),
  "collaborationMode/list": spec({ params: P.AnyObjectParams, paramsRequired: true, route: "router", experimental: true, resultSchema: "CollaborationModeListResponse" }),
  "hooks/list": spec({ params: P.AnyObjectParams, paramsRequired: true, route: "router", resultSchema: "HooksListResponse" }),
  "skills/list": spec({ params: P.AnyObjectParams, paramsRequired: true, route: "router", resultSchema: "SkillsListResponse" }),
  "plugin/installed": spec({ params: P.AnyObjectParams, paramsRequired: true, route: "router", resultSchema: "PluginInstalledResponse" }),
} as const satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof METHODS;

export function isKnownMethod(m: string): m is MethodName {
  return Object.hasOwn(METHODS, m);
}

/** Parsed params of a method, derived from its schema. */
export type ParamsOf<M extends MethodName> = z.infer<(typeof METHODS)[M]["params"]>;

/** Thread-scoped notifications: delivered to subscribers of the thread. */
export const THREAD_SCOPED_NOTIFICATIONS: ReadonlySet<string> = new Set(THREAD_SCOPED_NOTIFICATION_METHODS);

/** Notifications delivered to every initialized connection of the tenant. */
export const BROADCAST_NOTIFICATIONS: ReadonlySet<string> = new Set(BROADCAST_NOTIFICATION_METHODS);
