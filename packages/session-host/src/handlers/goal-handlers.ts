import type { CommandOutcome } from "../command-outcome.ts";
import type { ThreadActor } from "../thread-actor.ts";
import { emptyGoalObjectiveError, noGoalError } from "../thread-errors.ts";

/** Codex's `ThreadGoalStatus`. */
export type ThreadGoalStatus = "active" | "paused" | "blocked" | "usageLimited" | "budgetLimited" | "complete";

/** Codex's `ThreadGoal` (times in Unix seconds). */
export interface ThreadGoal {
  threadId: string;
  objective: string;
  status: ThreadGoalStatus;
  tokenBudget: number | null;
  tokensUsed: number;
  timeUsedSeconds: number;
  createdAt: number;
  updatedAt: number;
}

export interface ThreadGoalSetParams {
  threadId: string;
  objective?: string | null;
  status?: ThreadGoalStatus | null;
  tokenBudget?: number | null;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** `thread/goal/get`: the loaded thread's goal, or null. */
export function goalGet(actor: ThreadActor): CommandOutcome {
  return { result: { goal: actor.goal } };
}

/**
 * `thread/goal/set`: creates the goal (an objective is required then) or updates the given fields,
 * replies, then sends `thread/goal/updated` to the thread's subscribers, as Codex does. Unlike Codex,
 * an active goal does not start a turn by itself: the next turn is the client's.
 */
export function goalSet(actor: ThreadActor, p: ThreadGoalSetParams): CommandOutcome {
  const now = nowSeconds();
  const prev = actor.goal;
  if (typeof p.objective === "string" && p.objective.trim() === "") throw emptyGoalObjectiveError();
  const objective = p.objective ?? prev?.objective;
  if (objective === undefined) throw noGoalError(actor.threadId);
  const goal: ThreadGoal = {
    threadId: actor.threadId,
    objective,
    status: p.status ?? prev?.status ?? "active",
    tokenBudget: p.tokenBudget === undefined ? (prev?.tokenBudget ?? null) : p.tokenBudget,
    tokensUsed: prev?.tokensUsed ?? 0,
    timeUsedSeconds: prev?.timeUsedSeconds ?? 0,
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
  };
  actor.goal = goal;
  return { result: { goal }, afterReply: () => actor.events.notify("thread/goal/updated", { threadId: actor.threadId, turnId: null, goal }) };
}

/** `thread/goal/clear`: `{cleared}` tells whether there was a goal; a cleared one is announced with `thread/goal/cleared`. */
export function goalClear(actor: ThreadActor): CommandOutcome {
  const cleared = actor.goal !== null;
  actor.goal = null;
  if (!cleared) return { result: { cleared } };
  return { result: { cleared }, afterReply: () => actor.events.notify("thread/goal/cleared", { threadId: actor.threadId }) };
}

/**
 * What a resume announces to every subscriber after its response, as Codex does: the goal, or that
 * there is none (so a client that resumed earlier drops a goal it still shows).
 */
export function announceGoal(actor: ThreadActor): void {
  const goal = actor.goal;
  if (goal) actor.events.notify("thread/goal/updated", { threadId: actor.threadId, turnId: null, goal });
  else actor.events.notify("thread/goal/cleared", { threadId: actor.threadId });
}
