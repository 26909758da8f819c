import type {
  AskForApproval,
  METHODS,
  MethodName,
  RateLimitSnapshot,
  SandboxPolicy,
  Thread,
  ThreadItem,
  Turn,
} from "@threadmesh/protocol";

/**
 * Request types, derived from the protocol package's method table: the params of every method are the
 * input type of its runtime schema (what a caller may send; defaults and nullish fields optional).
 */
type SchemaInput<S> = S extends { _zod: { input: infer I } } ? I : never;

export type { MethodName };

/** What a caller passes as `params` of `method`. */
export type RequestParams<M extends MethodName> = SchemaInput<(typeof METHODS)[M]["params"]>;

/** An object result whose shape the protocol package does not describe yet. */
export type UntypedResult = Record<string, unknown>;

export interface ThreadResponse {
  thread: Thread;
  model: string;
  modelProvider: string;
  cwd: string;
  approvalPolicy: AskForApproval;
  sandbox: SandboxPolicy;
  reasoningEffort: string | null;
  [key: string]: unknown;
}

/** `thread/resume` with `afterSeq`: whether the event window covered the gap, and how many messages it replays. */
export interface ReplayOutcome {
  recovered: boolean;
  events: number;
}

/**
 * Results of the methods whose shapes the protocol package's wire types cover. Every other method
 * answers an object typed {@link UntypedResult} (the protocol package names their Codex schemas in
 * `resultSchema` but carries no TypeScript types for them).
 */
export interface KnownResults {
  initialize: { userAgent: string; [key: string]: unknown };
  "thread/start": ThreadResponse;
  "thread/resume": ThreadResponse & { replay?: ReplayOutcome };
  "thread/fork": ThreadResponse;
  "thread/read": { thread: Thread };
  "thread/list": { data: Thread[]; nextCursor: string | null; [key: string]: unknown };
  "thread/loaded/list": { data: string[]; nextCursor: string | null };
  "thread/turns/list": { data: Turn[]; nextCursor: string | null; [key: string]: unknown };
  "thread/items/list": { data: ThreadItem[]; nextCursor: string | null; [key: string]: unknown };
  "turn/start": { turn: Turn };
  "turn/steer": { turnId: string };
  "turn/interrupt": Record<string, never>;
  "account/rateLimits/read": { rateLimits: RateLimitSnapshot; rateLimitsByLimitId?: Record<string, RateLimitSnapshot> | null };
}

/** The result of `method`. */
export type ResultOf<M extends MethodName> = M extends keyof KnownResults ? KnownResults[M] : UntypedResult;

/** Methods whose params may be omitted. */
export type OptionalParamsMethod = "account/rateLimits/read" | "configRequirements/read";
