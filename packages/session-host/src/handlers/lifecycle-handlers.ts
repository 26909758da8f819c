import { nowSeconds, type CommandEnvelope, type RespondServerRequestParams } from "@threadmesh/protocol";
import type { CommandOutcome } from "../command-outcome.ts";
import { canAnswer } from "../access/thread-access.ts";
import { connectionKey } from "../host-services.ts";
import type { ThreadActor } from "../thread-actor.ts";
import { emptyThreadNameError, noArchivedRolloutError, noRolloutError } from "../thread-errors.ts";
import type { ThreadSetNameParams } from "../params.ts";

/**
 * `thread/archive` of a loaded thread: `thread/status/changed {notLoaded}` → unload → response →
 * `thread/archived`. Both events end every subscription to the thread (tm-d).
 */
export async function archiveLoaded(actor: ThreadActor): Promise<CommandOutcome> {
  const r = actor.record;
  if (!r.materialized || r.ephemeral || r.archived) throw noRolloutError(actor.threadId);
  actor.setStatus({ type: "notLoaded" }, true);
  await actor.unload();
  actor.writer.updateThread({ archived: true, updatedAt: nowSeconds() });
  await actor.writer.flush();
  return {
    result: {},
    afterReply: async () => {
      actor.events.notify("thread/archived", { threadId: actor.threadId }, true);
      actor.writer.updateThread({ lastSeq: actor.events.lastSeq });
      await actor.writer.flush();
    },
  };
}

/** A loaded thread is never archived. */
export function unarchiveLoaded(actor: ThreadActor): CommandOutcome {
  throw noArchivedRolloutError(actor.threadId);
}

/** `thread/delete` of a loaded thread: `thread/status/changed {notLoaded}` → unload and delete → response → `thread/deleted`. */
export async function deleteLoaded(actor: ThreadActor): Promise<CommandOutcome> {
  const r = actor.record;
  if (!r.materialized || r.ephemeral) throw noRolloutError(actor.threadId);
  actor.setStatus({ type: "notLoaded" }, true);
  await actor.unload();
  await actor.services.store.deleteThread(actor.tenant, actor.threadId);
  return { result: {}, afterReply: () => actor.events.notify("thread/deleted", { threadId: actor.threadId }, true) };
}

/** `thread/unsubscribe`: removes only the requester; the thread stays loaded and a turn keeps running. */
export function unsubscribeLoaded(actor: ThreadActor, _p: unknown, env: CommandEnvelope): CommandOutcome {
  if (actor.subscribers.delete(connectionKey(env.origin))) return { result: { status: "unsubscribed" }, unsubscribe: actor.threadId };
  return { result: { status: "notSubscribed" } };
}

/** `thread/name/set`: persists the name, replies, then broadcasts `thread/name/updated`. */
export function nameSetLoaded(actor: ThreadActor, p: ThreadSetNameParams): CommandOutcome {
  if (p.name.trim() === "") throw emptyThreadNameError();
  actor.persistThread({ name: p.name });
  return { result: {}, afterReply: () => actor.events.notify("thread/name/updated", { threadId: actor.threadId, threadName: p.name }) };
}

/** A connection that was subscribed went away: an implicit unsubscribe (the thread stays loaded). */
export function connectionClosed(actor: ThreadActor, _p: unknown, env: CommandEnvelope): CommandOutcome {
  actor.subscribers.delete(connectionKey(env.origin));
  return { result: {} };
}

/**
 * A client answered a server request; the first answer wins, later ones are ignored. An answer from a
 * user who may not answer the thread's requests is treated as one to an unknown request.
 */
export function respondServerRequest(actor: ThreadActor, p: RespondServerRequestParams, env: CommandEnvelope): CommandOutcome {
  if (!canAnswer(actor.record, env.origin)) return { result: { accepted: false } };
  const answer = p.error ? ({ kind: "error", error: p.error } as const) : ({ kind: "result", result: p.result } as const);
  const accepted = actor.pending.respond(p.requestKey, answer);
  return { result: { accepted } };
}
