import type { ThreadRecord } from "@threadmesh/persistence";
import { InvalidParamsError, InvalidRequestError, type CommandEnvelope } from "@threadmesh/protocol";
import { canShare } from "../access/thread-access.ts";
import type { CommandOutcome } from "../command-outcome.ts";
import type { ThreadActor } from "../thread-actor.ts";
import type { ThreadShareSetParams } from "../params.ts";

/** Who a thread is shared with, as `thread/share/set` sets it and answers it. */
export interface ThreadSharing {
  sharedWith: string[];
  approvers: string[];
}

/**
 * The sharing `thread/share/set` asks for, when the requester may set it: the owner or an administrator
 * of the tenant; everyone else who sees the thread (a user it is shared with) is refused. Approvers must
 * be among the users the thread is shared with; lists are deduplicated and sorted.
 */
export function requestedSharing(record: ThreadRecord, p: ThreadShareSetParams, env: CommandEnvelope): ThreadSharing {
  if (!canShare(record, env.origin)) throw new InvalidRequestError("only the thread's owner or an administrator of the tenant can share it");
  const sharedWith = [...new Set(p.users)].sort();
  const approvers = [...new Set(p.approvers ?? [])].sort();
  const stranger = approvers.find((u) => !sharedWith.includes(u));
  if (stranger !== undefined) throw new InvalidParamsError(`Invalid params: approver ${JSON.stringify(stranger)} is not among the users the thread is shared with`);
  return { sharedWith, approvers };
}

/**
 * `thread/share/set` of a loaded thread: takes effect for the next command of every connection, and at
 * once for live followers: routers detach the users no longer shared with and forget the requests of
 * those who may no longer answer them.
 */
export async function shareLoaded(actor: ThreadActor, p: ThreadShareSetParams, env: CommandEnvelope): Promise<CommandOutcome> {
  const sharing = requestedSharing(actor.record, p, env);
  Object.assign(actor.record, sharing);
  actor.events.accessChanged();
  actor.persistThread(sharing);
  await actor.writer.flush();
  return { result: sharing };
}
