import type { TurnRecord } from "@threadmesh/persistence";
import type { ThreadActor } from "./thread-actor.ts";

/**
 * Announces a thread this host just loaded (resume) or adopted from a lapsed owner: it is idle here, and
 * a turn the previous owner left running ended interrupted with an error, so no client keeps waiting
 * for a `turn/completed` that would never come.
 */
export function announceLoaded(actor: ThreadActor, abandoned: TurnRecord | null | undefined): void {
  actor.setStatus({ type: "idle" });
  if (!abandoned) return;
  actor.events.notify("turn/completed", {
    threadId: actor.threadId,
    turn: {
      id: abandoned.id,
      rootTurnId: abandoned.id,
      items: [],
      itemsView: "notLoaded",
      status: abandoned.status,
      error: abandoned.error,
      startedAt: abandoned.startedAt,
      completedAt: abandoned.completedAt,
      durationMs: abandoned.durationMs,
    },
  });
  actor.persistThread();
}
