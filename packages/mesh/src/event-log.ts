import type { BusHeaders } from "./bus.ts";
import { EventHeader } from "@threadmesh/protocol";

/** One thread event as it travelled on the bus: subject, payload and headers (`tm-s`, `tm-e`, `tm-k`, …). */
export interface LoggedEvent {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
}

/** Where a thread's events stand, as the newest event in the window tells it. */
export interface EventTail {
  /** The highest `seq` published for the thread that the window still holds. */
  readonly seq: number;
  /** The turn running when that event was published (`tm-a`); null when the thread was idle. */
  readonly activeTurn: string | null;
}

/** The {@link EventTail} an event's headers describe; null when they carry no seq. */
export function tailOf(headers: BusHeaders): EventTail | null {
  const range = seqRange(headers);
  return range === null ? null : { seq: range.last, activeTurn: headers[EventHeader.ActiveTurn] ?? null };
}

/** The newer of two tails. */
export function newerTail(a: EventTail | null, b: EventTail | null): EventTail | null {
  if (a === null) return b;
  return b === null || a.seq >= b.seq ? a : b;
}

/** Size of the replay window; whichever limit is reached first drops the oldest events. */
export interface ReplayWindow {
  /** Oldest event kept, in ms. Default 10 minutes. */
  maxAgeMs: number;
  /** Most messages kept per thread and subject (a batch of deltas is one message). Default 10,000. */
  maxEventsPerThread: number;
}

export const DEFAULT_REPLAY_WINDOW: ReplayWindow = { maxAgeMs: 10 * 60_000, maxEventsPerThread: 10_000 };

/**
 * The bounded history of thread events behind the live feed: what a router replays to a client that
 * resumes with `afterSeq`, and where a host adopting a thread finds the last `seq` its previous owner
 * published. Hosts publish on the bus as usual; the log captures the thread event and broadcast
 * subjects itself (a JetStream stream on NATS, a ring per thread in one process).
 */
export interface EventLog {
  /**
   * Events of one thread still in the window whose last `seq` is above `afterSeq`, oldest first; both
   * its thread-scoped events and its broadcasts. Callers check continuity: the window may have dropped
   * the start of the gap.
   */
  read(tenant: string, threadId: string, afterSeq: number): Promise<LoggedEvent[]>;
  /** The newest event the window holds for the thread (thread-scoped or broadcast); null when none. */
  tail(tenant: string, threadId: string): Promise<EventTail | null>;
  close(): Promise<void>;
}

/** The `seq` range an event covers: one number, or `tm-f`…`tm-s` for a batch. */
export function seqRange(headers: BusHeaders): { first: number; last: number } | null {
  const last = Number(headers["tm-s"]);
  if (!Number.isSafeInteger(last)) return null;
  const firstText = headers["tm-f"];
  const first = firstText === undefined ? last : Number(firstText);
  return Number.isSafeInteger(first) && first <= last ? { first, last } : null;
}
