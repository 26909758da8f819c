import { InvalidParamsError, TEXT_DECODER, type RecentEventsParams, type RecentEventsResult } from "@threadmesh/protocol";
import type { ThreadActor } from "../thread-actor.ts";

/** The newest events the thread's owner published after `afterSeq`, as far as it kept them. */
export function recentEvents(actor: ThreadActor, params: unknown): RecentEventsResult {
  const afterSeq = (params as Partial<RecentEventsParams> | null)?.afterSeq;
  if (typeof afterSeq !== "number" || !Number.isFinite(afterSeq)) throw new InvalidParamsError("afterSeq must be a number");
  return { events: actor.events.recentAfter(afterSeq).map((e) => ({ subject: e.subject, headers: e.headers, data: TEXT_DECODER.decode(e.data) })) };
}
