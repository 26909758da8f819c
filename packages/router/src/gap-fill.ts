import { seqRange, type BusMessage, type EventLog, type EventTail, type LoggedEvent } from "@threadmesh/mesh";
import pRetry from "p-retry";
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
  /**
   * Settles when the fill is over: true when every event it set out to read was delivered (a later
   * fill through {@link through} may still be running then), false when its followers were left with a hole.
   */
  readonly done: Promise<boolean>;
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
 * Longest a gap read may take, retries included. Live events of the thread wait meanwhile, so a log
 * that does not answer (a JetStream cluster electing a leader) must not hold them longer: the
 * followers resume instead.
 */
export const GAP_READ_TIMEOUT_MS = 8_000;

/**
 * Reads the events after `afterSeq` through `through`, retrying while the log is unavailable or has
 * not captured them yet. With `through` undefined (nothing proven missing: the bus reconnected) one
 * read up to the newest event the log holds. Never rejects: what could not be read is unrecovered.
 */
export async function readGap(log: EventLog, tenant: string, threadId: string, afterSeq: number, through: number | undefined): Promise<GapRead> {
  const deadline = Date.now() + GAP_READ_TIMEOUT_MS;
  try {
    return await pRetry(
      async () => {
        const r = await beforeDeadline(readOnce(log, tenant, threadId, afterSeq, through), deadline);
        if (!r.recovered && through !== undefined) throw new Error(`events ${afterSeq + 1}..${through} of thread ${threadId} not in the log`);
        return r;
      },
      { retries: through === undefined ? 0 : 30, minTimeout: 100, maxTimeout: 1_000, maxRetryTime: GAP_READ_TIMEOUT_MS },
    );
  } catch {
    return { recovered: false, events: [], coveredThrough: afterSeq };
  }
}

async function readOnce(log: EventLog, tenant: string, threadId: string, afterSeq: number, through: number | undefined): Promise<GapRead> {
  let early: Promise<LoggedEvent[]> | undefined;
  let target = through;
  if (target === undefined) {
    // Nothing proven missing: whatever the sources hold past afterSeq is the target.
    const events = await log.read(tenant, threadId, afterSeq);
    early = Promise.resolve(events);
    target = Math.max(afterSeq, ...events.map((e) => seqRange(e.headers)?.last ?? afterSeq));
  }
  if (target <= afterSeq) return { recovered: true, events: [], coveredThrough: afterSeq };
  const plan = await planReplay(log, tenant, threadId, afterSeq, target, early);
  return plan.recovered ? plan : { recovered: false, events: [], coveredThrough: afterSeq };
}

/** Asks a thread's owner for the newest events it published after `afterSeq`. */
export type OwnerEventsReader = (tenant: string, threadId: string, afterSeq: number) => Promise<LoggedEvent[]>;

/**
 * Where gaps are read from: the event log (which captures publishes at most once, like the live feed)
 * and the thread's owner (which keeps the newest events it published), merged by seq.
 */
export function gapSource(log: EventLog | undefined, owner: OwnerEventsReader | undefined): EventLog | undefined {
  if (log === undefined && owner === undefined) return undefined;
  const read = async (tenant: string, threadId: string, afterSeq: number): Promise<LoggedEvent[]> => {
    const [a, b] = await Promise.all([
      log?.read(tenant, threadId, afterSeq).catch(() => []) ?? [],
      owner?.(tenant, threadId, afterSeq).catch(() => []) ?? [],
    ]);
    return mergeBySeq(a, b);
  };
  return {
    read,
    async tail(tenant: string, threadId: string): Promise<EventTail | null> {
      return (await log?.tail(tenant, threadId).catch(() => null)) ?? null;
    },
    async close() {},
  };
}

/** Events of two sources in seq order, each range once. */
function mergeBySeq(a: LoggedEvent[], b: LoggedEvent[]): LoggedEvent[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const seen = new Set<string>();
  const out: LoggedEvent[] = [];
  for (const e of [...a, ...b]) {
    const r = seqRange(e.headers);
    const key = r === null ? null : `${r.first} ${r.last} ${e.headers["tm-e"] ?? ""}`;
    if (key !== null && seen.has(key)) continue;
    if (key !== null) seen.add(key);
    out.push(e);
  }
  return out.sort((x, y) => (seqRange(x.headers)?.first ?? 0) - (seqRange(y.headers)?.first ?? 0));
}

/** `work`, or a rejection once `deadline` (epoch ms) passes. */
async function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("gap read timed out")), Math.max(0, deadline - Date.now()));
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** WebSocket close code for a connection whose feed lost events the log could not supply. */
export const CLOSE_GAP = 1013;

/** The close reason naming where the connection resumes a thread whose feed has a hole. */
export function gapCloseReason(threadId: string, delivered: number): string {
  const cursor = Number.isFinite(delivered) ? `afterSeq=${delivered}` : "thread/resume";
  return `events of thread ${threadId} lost in transit; resume with ${cursor}`.slice(0, 120);
}
