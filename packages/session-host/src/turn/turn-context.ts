import type { RateLimitSnapshot, ThreadActiveFlag, ThreadItem, TurnError } from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";
import type { TurnAdmission } from "../admission/turn-admission.ts";
import type { HostConfig } from "../config.ts";
import type { HostMetrics } from "../host-metrics.ts";
import type { ModelClient, ModelUsage } from "../model/model-client.ts";
import type { PendingRequests } from "../pending-requests.ts";
import type { ActiveTurn } from "./active-turn.ts";

/** How a turn ended. */
export type TurnEnd =
  | { status: "completed" }
  | { status: "interrupted" }
  | { status: "failed"; error: TurnError; streamStarted: boolean; usage?: ModelUsage | null };

/**
 * What the agent loop may do with its thread: the narrow surface the thread actor hands to a running
 * turn. Everything here is synchronous except ending the turn; storage writes are queued behind events.
 */
export interface TurnContext {
  /** Tenant of the thread; sandboxed commands run as this tenant's user. */
  readonly tenant: string;
  readonly threadId: string;
  readonly model: ModelClient;
  /** The credit waterfall every model request passes; null when admission is off. */
  readonly admission: TurnAdmission | null;
  readonly config: Readonly<HostConfig>;
  /** Resolved bubblewrap path; null when sandboxed execution is unavailable. */
  readonly bwrapPath: string | null;
  readonly logger: Logger;
  /** The host's model and tool instruments. */
  readonly metrics: HostMetrics;
  readonly pending: PendingRequests;
  /** Commands approved with `acceptForSession`, keyed by {@link commandKey}. */
  readonly sessionApprovals: Set<string>;
  /** Dynamic tools declared at thread/start. */
  readonly dynamicTools: unknown[];
  /** Batches the thread's notifications between `cork` and `uncork` (one bus message per model read). */
  readonly events: { cork(): void; uncork(): void };
  /** The thread's model conversation so far (Responses API input items). */
  history(): readonly unknown[];
  appendHistory(turnId: string, entries: unknown[]): void;
  /** Stores a completed item of the turn. */
  recordItem(turnId: string, item: ThreadItem): void;
  /** Sets the `active` status flags of the thread (publishing `thread/status/changed`). */
  setActiveFlags(flags: ThreadActiveFlag[]): void;
  /**
   * Adds one response's usage to the thread and publishes `thread/tokenUsage/updated` +
   * `account/rateLimits/updated` (with `rateLimits` as settled, else a snapshot without a plan).
   */
  reportUsage(turn: ActiveTurn, usage: ModelUsage | null, rateLimits?: RateLimitSnapshot | null): void;
  /** Reports a request cut short (interrupt, steer) as Codex does: the unreported usage, else the rate limits. */
  reportCutShort(turn: ActiveTurn): void;
  /** Ends the turn once: final status, `turn/completed`, request cleanup, persistence. */
  endTurn(turn: ActiveTurn, end: TurnEnd): Promise<void>;
}

/** Key of a command for session-wide approval: its exact argv. */
export function commandKey(argv: readonly string[]): string {
  return JSON.stringify(argv);
}
