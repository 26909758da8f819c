import { seqRange, type BusHeaders, type EventLog, type LoggedEvent } from "@threadmesh/mesh";

/** What a resume with `afterSeq` gets besides the snapshot. */
export interface ReplayPlan {
  /** The window held every event after `afterSeq` up to the snapshot. */
  readonly recovered: boolean;
  /** Events to write after the response, in order (kinds `n` and `b`; trimmed to seq > afterSeq by the fan-out). */
  readonly events: LoggedEvent[];
  /** Live events at or below this seq are already covered (by the replay, or by the snapshot when not recovered). */
  readonly coveredThrough: number;
}

/** Tries this many reads when the window looks short: the stream captures publishes asynchronously. */
const READ_ATTEMPTS = 3;
const RETRY_DELAY_MS = 15;

/**
 * Reads what a client resuming with `afterSeq` missed: the thread's events after it, which must run
 * without a gap from `afterSeq + 1` through `snapshotSeq` (the last seq the host's snapshot covers).
 * Events of a superseded owner epoch are left out. With no gap the plan is recovered; otherwise the
 * client rebuilds from the snapshot, and only live events after it follow. `early` is a read of the
 * same events started while the snapshot was being taken: when it already reaches the snapshot it is
 * the plan, else the window is read again.
 */
export async function planReplay(
  log: EventLog | undefined,
  tenant: string,
  threadId: string,
  afterSeq: number,
  snapshotSeq: number,
  early?: Promise<LoggedEvent[]>,
): Promise<ReplayPlan> {
  if (afterSeq >= snapshotSeq) return { recovered: true, events: [], coveredThrough: afterSeq };
  if (log === undefined) return { recovered: false, events: [], coveredThrough: snapshotSeq };
  const first = await early?.catch(() => undefined);
  if (first !== undefined) {
    const events = currentEpochOnly(first);
    const through = contiguousThrough(events, afterSeq);
    if (through >= snapshotSeq) return { recovered: true, events, coveredThrough: through };
  }
  for (let attempt = 1; ; attempt++) {
    const events = currentEpochOnly(await log.read(tenant, threadId, afterSeq));
    const through = contiguousThrough(events, afterSeq);
    if (through >= snapshotSeq) return { recovered: true, events, coveredThrough: through };
    if (attempt >= READ_ATTEMPTS) return { recovered: false, events: [], coveredThrough: snapshotSeq };
    await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
  }
}

/** The highest seq reached from `afterSeq` without a gap. */
function contiguousThrough(events: readonly LoggedEvent[], afterSeq: number): number {
  let through = afterSeq;
  for (const e of events) {
    const r = seqRange(e.headers);
    if (r === null) continue;
    if (r.first > through + 1) break;
    through = Math.max(through, r.last);
  }
  return through;
}

/**
 * Drops a superseded owner's late events: an event of epoch `e` is stale when a newer epoch had
 * already started at or before its seq (the new owner continues from the last seq it found).
 */
function currentEpochOnly(events: LoggedEvent[]): LoggedEvent[] {
  const startOf = new Map<number, number>();
  for (const e of events) {
    const r = seqRange(e.headers);
    if (r === null) continue;
    const epoch = epochOf(e.headers);
    startOf.set(epoch, Math.min(startOf.get(epoch) ?? Infinity, r.first));
  }
  if (startOf.size <= 1) return events;
  return events.filter((e) => {
    const epoch = epochOf(e.headers);
    const last = seqRange(e.headers)?.last ?? -Infinity;
    for (const [other, start] of startOf) if (other > epoch && start <= last) return false;
    return true;
  });
}

function epochOf(h: BusHeaders): number {
  const e = Number(h["tm-e"]);
  return Number.isFinite(e) ? e : 0;
}
