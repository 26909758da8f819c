import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS, sameLimitsForAll, type AskForApproval, type LimitsResolver, type SandboxMode } from "@threadmesh/protocol";
import { SHARED_POLICY_CAPS, defaultsProblems, type PolicyCaps } from "./policy/policy-caps.ts";

/** Root under which `<tenant>/<threadId>` workspaces are created for threads started without a cwd. */
export const DEFAULT_WORKSPACE_ROOT = join(tmpdir(), "threadmesh", "workspaces");
/** Model of new threads when neither the client nor the config names one. */
export const DEFAULT_MODEL = "gpt-5.1-codex";
/** `modelProvider` reported on threads. */
export const DEFAULT_MODEL_PROVIDER = "openai";
/** Responses API base URL (the SDK appends `/responses`). */
export const DEFAULT_MODEL_BASE_URL = "https://api.openai.com/v1";
/** SDK retries of a model request that failed before its stream started (connection errors, 429, 5xx). */
export const DEFAULT_MODEL_MAX_RETRIES = 2;
/** A model stream silent for this long fails the turn, in ms (Codex's `stream_idle_timeout_ms`). */
export const DEFAULT_MODEL_IDLE_TIMEOUT_MS = 120_000;
/** Context window reported in `thread/tokenUsage/updated`, in tokens. */
export const DEFAULT_MODEL_CONTEXT_WINDOW = 258_400;
/** Timeout of a shell call that names none, in ms (Codex's default exec timeout). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/** Upper bound on a shell call's own `timeout_ms`, in ms. */
export const DEFAULT_MAX_COMMAND_TIMEOUT_MS = 600_000;
/** Output kept per command (stdout and stderr together), in bytes; the rest is discarded. */
export const DEFAULT_OUTPUT_CAP_BYTES = 1_048_576;
/**
 * Commands queued per thread, in commands. A thread serves a handful of connections; a queue this deep
 * means a client floods one thread, and it is told to back off (-32001) instead of growing memory.
 */
export const DEFAULT_MAILBOX_CAPACITY = 256;
/** A loaded thread with no subscribers and no activity for this long is unloaded, in ms (Codex: 30 min). */
export const DEFAULT_THREAD_UNLOAD_DELAY_MS = 30 * 60_000;
/** bubblewrap executable used for sandboxed commands; null disables sandboxed execution (fails closed). */
export const DEFAULT_BWRAP_PATH = "/usr/bin/bwrap";
/** `retryAfterMs` suggested when a thread's mailbox is full, in ms. */
export const DEFAULT_OVERLOAD_RETRY_AFTER_MS = 250;
/** Time between two heartbeats of the host, in ms. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * Commands a host serves at once outside thread mailboxes (placements, listings, loads, reads of
 * unloaded threads); beyond it they are answered -32001 `hostBusy` instead of queueing.
 */
export const DEFAULT_MAX_CONCURRENT_COMMANDS = 512;
/** Turns one host runs at once at most; new turns beyond it get -32001 (0: bounded by event-loop lag only). */
export const DEFAULT_MAX_TURNS = 1_000;
/**
 * Sustained event-loop lag beyond which a host refuses new turns, in ms (0: no check). Off for hosts
 * built in-process (tests, embedding); the command line sets its own default (THREADMESH_TURN_LAG_BUDGET_MS).
 */
export const DEFAULT_TURN_LAG_BUDGET_MS = 0;
/** Longest time a thread's streamed deltas are held back so that several travel together, in ms (0: at once). */
export const DEFAULT_DELTA_LINGER_MS = 20;
/** Threads one host holds at most; placements beyond it are refused. */
export const DEFAULT_MAX_THREADS = 5_000;
/** Base instructions of threads that bring none. */
export const DEFAULT_INSTRUCTIONS =
  "You are a coding agent running in a workspace on the user's behalf. Use the shell and apply_patch tools to inspect and change files, keep the user informed with short updates, and finish with a concise summary.";

/** How the host reaches the model provider. */
export interface ModelConfig {
  /** Base URL of an OpenAI Responses API, including `/v1`. Default {@link DEFAULT_MODEL_BASE_URL}. */
  baseURL: string;
  /** API key sent as Bearer token. */
  apiKey: string;
  /** Model of new threads. Default {@link DEFAULT_MODEL}. */
  model: string;
  /** Provider name reported as `modelProvider`. Default {@link DEFAULT_MODEL_PROVIDER}. */
  provider: string;
  /** SDK retries before a stream starts. Default {@link DEFAULT_MODEL_MAX_RETRIES}. */
  maxRetries: number;
  /** Silence on a stream that fails the turn, in ms. Default {@link DEFAULT_MODEL_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs: number;
  /** Context window reported to clients, in tokens; null when unknown. Default {@link DEFAULT_MODEL_CONTEXT_WINDOW}. */
  contextWindow: number | null;
  /** Reasoning effort of new threads; null leaves it to the model. Default null. */
  reasoningEffort: string | null;
}

/** Behaviour of one session host. */
export interface HostConfig {
  /** Directory holding `<tenant>/<threadId>` workspaces. Default {@link DEFAULT_WORKSPACE_ROOT}. */
  workspaceRoot: string;
  /**
   * The most a client may ask for (every tenant, unless {@link SessionHostOptions.policyCaps} resolves
   * them per tenant). Default {@link SHARED_POLICY_CAPS}.
   */
  policyCaps: PolicyCaps;
  /**
   * Thread cwds, writable roots and tool paths must resolve inside `<workspaceRoot>/<tenant>`.
   * Default true.
   */
  confineWorkspaces: boolean;
  /** Approval policy of threads that name none. Default `on-request`. */
  defaultApprovalPolicy: AskForApproval;
  /** Sandbox mode of threads that name none. Default `workspace-write`. */
  defaultSandbox: SandboxMode;
  /** Base instructions sent to the model when a thread brings none. */
  instructions: string;
  /** Shell timeout when the call names none, in ms. Default {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  commandTimeoutMs: number;
  /** Cap on a call's `timeout_ms`, in ms. Default {@link DEFAULT_MAX_COMMAND_TIMEOUT_MS}. */
  maxCommandTimeoutMs: number;
  /** Output kept per command, in bytes. Default {@link DEFAULT_OUTPUT_CAP_BYTES}. */
  outputCapBytes: number;
  /** Environment of tool commands; undefined inherits the host process's. */
  commandEnv: Record<string, string> | undefined;
  /** bubblewrap path; null makes sandboxed modes fail closed. Default {@link DEFAULT_BWRAP_PATH}. */
  bwrapPath: string | null;
  /** Commands queued per thread. Default {@link DEFAULT_MAILBOX_CAPACITY}. */
  mailboxCapacity: number;
  /** Idle unload delay, in ms. Default {@link DEFAULT_THREAD_UNLOAD_DELAY_MS}. */
  threadUnloadDelayMs: number;
  /** `retryAfterMs` of mailbox overload errors, in ms. Default {@link DEFAULT_OVERLOAD_RETRY_AFTER_MS}. */
  overloadRetryAfterMs: number;
  /** Heartbeat period, in ms. Default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  heartbeatIntervalMs: number;
  /** Loaded threads beyond which placements are refused. Default {@link DEFAULT_MAX_THREADS}. */
  maxThreads: number;
  /** Commands served at once outside thread mailboxes. Default {@link DEFAULT_MAX_CONCURRENT_COMMANDS}. */
  maxConcurrentCommands: number;
  /** Turns run at once; new ones beyond it are refused with -32001. Default {@link DEFAULT_MAX_TURNS}. */
  maxTurns: number;
  /** Event-loop lag beyond which new turns are refused with -32001, in ms. Default {@link DEFAULT_TURN_LAG_BUDGET_MS}. */
  turnLagBudgetMs: number;
  /**
   * Longest time the event loop may be busy without costing the host its lease (NATS), in ms; a loop
   * wedged for longer stops the heartbeats. Default: the lease's ttl.
   */
  leaseStallMs: number | undefined;
  /** Streamed deltas of one thread wait at most this long to travel together, in ms (0: at once). Default {@link DEFAULT_DELTA_LINGER_MS}. */
  deltaLingerMs: number;
  /** Quotas of a tenant (threads per tenant, queue wait). Default: the protocol's `DEFAULT_LIMITS` for everyone. */
  limitsFor: LimitsResolver;
  /**
   * A turn a lost owner left at a safe point runs on here with a new model request, instead of ending
   * interrupted. Default true.
   */
  continueTurns: boolean;
}

/**
 * Fills every missing field with its default and freezes the result. Throws when a default approval
 * policy or sandbox exceeds the policy caps.
 */
export function resolveHostConfig(partial: Partial<HostConfig> = {}): Readonly<HostConfig> {
  const policyCaps = partial.policyCaps ?? SHARED_POLICY_CAPS;
  const defaultApprovalPolicy = partial.defaultApprovalPolicy ?? "on-request";
  const defaultSandbox = partial.defaultSandbox ?? "workspace-write";
  const problems = defaultsProblems(policyCaps, { approvalPolicy: defaultApprovalPolicy, sandbox: defaultSandbox });
  if (problems.length) throw new Error(`session host configuration: ${problems.join("; ")}`);
  return Object.freeze({
    workspaceRoot: partial.workspaceRoot ?? DEFAULT_WORKSPACE_ROOT,
    policyCaps,
    confineWorkspaces: partial.confineWorkspaces ?? true,
    defaultApprovalPolicy,
    defaultSandbox,
    instructions: partial.instructions ?? DEFAULT_INSTRUCTIONS,
    commandTimeoutMs: partial.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    maxCommandTimeoutMs: partial.maxCommandTimeoutMs ?? DEFAULT_MAX_COMMAND_TIMEOUT_MS,
    outputCapBytes: partial.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
    commandEnv: partial.commandEnv,
    bwrapPath: partial.bwrapPath === undefined ? DEFAULT_BWRAP_PATH : partial.bwrapPath,
    mailboxCapacity: partial.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY,
    threadUnloadDelayMs: partial.threadUnloadDelayMs ?? DEFAULT_THREAD_UNLOAD_DELAY_MS,
    overloadRetryAfterMs: partial.overloadRetryAfterMs ?? DEFAULT_OVERLOAD_RETRY_AFTER_MS,
    heartbeatIntervalMs: partial.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    maxThreads: partial.maxThreads ?? DEFAULT_MAX_THREADS,
    continueTurns: partial.continueTurns ?? true,
    limitsFor: partial.limitsFor ?? sameLimitsForAll(DEFAULT_LIMITS),
    maxConcurrentCommands: partial.maxConcurrentCommands ?? DEFAULT_MAX_CONCURRENT_COMMANDS,
    maxTurns: partial.maxTurns ?? DEFAULT_MAX_TURNS,
    turnLagBudgetMs: partial.turnLagBudgetMs ?? DEFAULT_TURN_LAG_BUDGET_MS,
    leaseStallMs: partial.leaseStallMs,
    deltaLingerMs: partial.deltaLingerMs ?? DEFAULT_DELTA_LINGER_MS,
  });
}

/** Fills every missing field of the model config with its default and freezes the result. */
export function resolveModelConfig(partial: Partial<ModelConfig> = {}): Readonly<ModelConfig> {
  return Object.freeze({
    baseURL: partial.baseURL ?? DEFAULT_MODEL_BASE_URL,
    apiKey: partial.apiKey ?? "",
    model: partial.model ?? DEFAULT_MODEL,
    provider: partial.provider ?? DEFAULT_MODEL_PROVIDER,
    maxRetries: partial.maxRetries ?? DEFAULT_MODEL_MAX_RETRIES,
    idleTimeoutMs: partial.idleTimeoutMs ?? DEFAULT_MODEL_IDLE_TIMEOUT_MS,
    contextWindow: partial.contextWindow === undefined ? DEFAULT_MODEL_CONTEXT_WINDOW : partial.contextWindow,
    reasoningEffort: partial.reasoningEffort ?? null,
  });
}
