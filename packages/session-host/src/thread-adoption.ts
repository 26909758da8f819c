import type { ServerRequestRecord, TurnRecord } from "@threadmesh/persistence";
import { continueTurn } from "./handlers/turn-handlers.ts";
import type { ThreadActor } from "./thread-actor.ts";

/**
 * Announces a thread this host just loaded (resume) or adopted from a lapsed owner: it is idle here, and
 * a turn the previous owner left running ended interrupted with an error, so no client keeps waiting
 * for a `turn/completed` that would never come — or, left at a safe point, runs on here. The server requests the previous owner left pending are
 * resolved after it, as a turn's end resolves its own: every router tells the connections still holding
 * one (`serverRequest/resolved`), and their rows go.
 */
export function announceLoaded(
  actor: ThreadActor,
  abandoned: TurnRecord | null | undefined,
  orphaned: readonly ServerRequestRecord[] = [],
  continued: TurnRecord | null = null,
): void {
  if (continued !== null) {
    continueTurn(actor, continued);
    actor.metrics.mesh.turnsRecovered.inc({ outcome: "continued" });
  } else actor.setStatus({ type: "idle" });
  if (abandoned) {
    announceAbandoned(actor, abandoned);
    // Its slot and the reservations of its unfinished rounds go back (their usage never reached a host).
    actor.services.admission?.abandon(actor.tenant, abandoned.id).catch((err: unknown) => actor.logger.warn({ err, turnId: abandoned.id }, "freeing an abandoned turn's credits failed"));
    actor.metrics.mesh.turnsRecovered.inc({ outcome: abandoned.status === "completed" ? "completed" : "interrupted" });
  }
  for (const r of orphaned) {
    actor.events.resolved(r.requestKey, r.method);
    actor.writer.deleteServerRequest(r.requestKey);
  }
  // The thread row records the sequence numbers just used.
  if (abandoned || orphaned.length > 0) actor.persistThread();
}

function announceAbandoned(actor: ThreadActor, abandoned: TurnRecord): void {
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
}
