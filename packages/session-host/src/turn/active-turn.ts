import type { AgentMessageItem, AskForApproval, RateLimitSnapshot, SandboxPolicy, Turn, UserInput } from "@threadmesh/protocol";
import type { ModelUsage } from "../model/model-client.ts";
import { nowSeconds } from "@threadmesh/protocol";
import type { TurnRecord } from "@threadmesh/persistence";
import type { PolicyCaps } from "../policy/policy-caps.ts";
import type { WorkspaceBounds } from "../policy/workspace-bounds.ts";
import { TurnDiffTracker } from "../tools/turn-diff.ts";
import type { Payer } from "../admission/turn-admission.ts";
import type { TurnTrace } from "./turn-trace.ts";

/** The effective settings of one turn, fixed when it starts. */
export interface TurnSettings {
  model: string;
  effort: string | null;
  summary: string | null;
  approvalPolicy: AskForApproval;
  sandboxPolicy: SandboxPolicy;
  /** The tenant's caps when the turn started; tools obey them (escalation). */
  caps: PolicyCaps;
  /** The tenant's workspace bounds; every path a tool touches must lie inside them. */
  bounds: WorkspaceBounds;
  cwd: string;
  instructions: string;
  developerInstructions: string | null;
  serviceTier: string | null;
  /** JSON Schema for the final message (this turn only). */
  outputSchema: unknown;
}

/** User input waiting to join the turn at the next model-request boundary (steer, or turn/start while busy). */
export interface QueuedInput {
  input: UserInput[];
  clientId: string | null;
}

/** Why a model request was aborted by the turn itself. */
export type RoundAbortReason = "steer" | "interrupt";

/**
 * One running turn. The turn's task and the thread's commands share it: commands queue steers, abort the
 * current model request or interrupt the turn while the task awaits the model, a command or an approval.
 * Once `finished` is set nothing the task emits reaches clients, so a turn ends exactly once.
 */
export class ActiveTurn {
  readonly id: string;
  readonly ordinal: number;
  readonly settings: TurnSettings;
  readonly startedAtMs: number;
  readonly startedAt: number;
  /** Aborted when the turn ends early: cancels the model request and any running command. */
  readonly abort = new AbortController();
  readonly diff = new TurnDiffTracker();
  /** Abort controller of the model request in flight, if any. */
  round: AbortController | null = null;
  /**
   * The usage (and settled rate limits) of the last completed model request while its tool calls run,
   * until the round reports it; null when nothing is left to report.
   */
  unreportedUsage: { usage: ModelUsage | null; rateLimits: RateLimitSnapshot | null } | null = null;
  /** An agent message is streaming in the current model request (a steer abandons the request). */
  messageStreaming = false;
  readonly steers: QueuedInput[] = [];
  /** Last agent message completed in the latest model request. */
  finalMessage: AgentMessageItem | null = null;
  /** Index of the model request during which the turn's diff last changed; -1 while nothing changed. */
  diffRound = -1;
  finished = false;
  /** Who pays for the turn's model requests; null while admission is off. */
  payer: Payer | null = null;
  /** Reservation key index of the turn's next model request (a request a steer abandoned keeps its index). */
  modelRound = 0;
  /** The index reserved and not yet settled or given back; null when none is. */
  heldRound: number | null = null;
  /** The user who started the turn; null for a tenant-wide credential. */
  startedBy: string | null = null;
  /** The turn's spans (no-ops unless the process registered an OpenTelemetry SDK). */
  readonly spans: TurnTrace;
  readonly #notify: (method: string, params: unknown) => void;

  /** `startedAtMs`: when the turn began, for a turn continued by a new owner; default now. */
  constructor(id: string, ordinal: number, settings: TurnSettings, spans: TurnTrace, notify: (method: string, params: unknown) => void, startedAtMs = Date.now()) {
    this.startedAtMs = startedAtMs;
    this.startedAt = nowSeconds(startedAtMs);
    this.id = id;
    this.ordinal = ordinal;
    this.settings = settings;
    this.spans = spans;
    this.#notify = notify;
  }

  /** Publishes a notification of this turn; silent once the turn finished. */
  emit(method: string, params: unknown): void {
    if (!this.finished) this.#notify(method, params);
  }

  /** Queues input for the next model request and abandons a response that is streaming a message. */
  steer(input: QueuedInput): void {
    this.steers.push(input);
    if (this.messageStreaming && this.round) this.round.abort("steer" satisfies RoundAbortReason);
  }

  /** Ends the turn's span with its final status. */
  endSpan(status: string, error?: string): void {
    this.spans.end(status, error);
  }

  /** The in-progress wire view returned by `turn/start` (before the turn runs). */
  startView(): Turn {
    return { id: this.id, rootTurnId: this.id, items: [], itemsView: "notLoaded", status: "inProgress", error: null, startedAt: null, completedAt: null, durationMs: null };
  }

  /** The `turn/started` view. */
  startedView(): Turn {
    return { ...this.startView(), startedAt: this.startedAt };
  }

  /** The turn's stored row while it runs; its end overrides status, error, completion and duration. */
  row(): Omit<TurnRecord, "tenantId" | "threadId"> {
    const outputSchema = this.settings.outputSchema ?? null;
    return { id: this.id, ordinal: this.ordinal, status: "inProgress", error: null, startedAt: this.startedAt, completedAt: null, durationMs: null, outputSchema, startedBy: this.startedBy };
  }
}
