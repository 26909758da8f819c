import type { BusMessage, EventLog } from "@threadmesh/mesh";
import { planReplay } from "./replay.ts";

/**
 * A thread's live feed skipped seqs: the router's bus connection lost messages (a NATS node restarted,
 * the connection moved to another node while interest propagated). Live events that arrive meanwhile
 * are held; the missing ones are read from the event log; then both are delivered in seq order.
 */
export interface PendingFill {
  /** Live events that arrived while the gap was being read, in arrival order. */
  readonly held: LoggedEventLike[];
  heldBytes: number;
  /** More held than the connection cap allows: the members resume on their own instead. */
  overflowed: boolean;
  /** A later request to fill through a higher seq while this one was running. */
  through: number | undefined;
}

/** What a fill delivers: a live bus message or an event read back from the log. */
export type LoggedEventLike = Pick<BusMessage, "data" | "headers">;

export interface GapRead {
  /** The log held every event from `afterSeq + 1` through the target. */
  readonly recovered: boolean;
  readonly events: readonly LoggedEventLike[];
  /** The highest seq the read reached without a gap. */
  readonly coveredThrough: number;
}

/**
 * Reads the events after `afterSeq` through `through` (or through the newest the log holds when
 * `through` is undefined). Never rejects: a failed read is an unrecovered gap.
 */
export async function readGap(log: EventLog, tenant: string, threadId: string, afterSeq: number, through: number | undefined): Promise<GapRead> {
  try {
    const target = through ?? (await log.tail(tenant, threadId))?.seq ?? afterSeq;
    if (target <= afterSeq) return { recovered: true, events: [], coveredThrough: afterSeq };
    const plan = await planReplay(log, tenant, threadId, afterSeq, target);
    return plan.recovered ? plan : { recovered: false, events: [], coveredThrough: afterSeq };
  } catch {
    return { recovered: false, events: [], coveredThrough: afterSeq };
  }
}

/** WebSocket close code for a connection whose feed lost events the log could not supply. */
export const CLOSE_GAP = 1013;

/** The close reason naming where the connection resumes a thread whose feed has a hole. */
export function gapCloseReason(threadId: string, delivered: number): string {
  const cursor = Number.isFinite(delivered) ? `afterSeq=${delivered}` : "thread/resume";
  return `events of thread ${threadId} lost in transit; resume with ${cursor}`.slice(0, 120);
}
