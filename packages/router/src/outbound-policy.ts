/**
 * Slow-consumer policy, applied per connection. Nothing is ever dropped:
 *
 * 1. While the socket holds at most `highWaterBytes` not yet taken by the kernel, frames are written
 *    as they come, as bytes.
 * 2. Above it the connection is behind: new frames wait in its backlog, where consecutive deltas of one
 *    item are merged into one frame (`tm_router_outbound_coalesced_total`); the backlog is written
 *    each time the socket drains, and the connection writes directly again once it is empty.
 * 3. A connection whose backlog and socket together hold more than `maxBytes` for longer than
 *    `graceMs` is closed with 1013 (try again later) and a reason naming the cursor to resume from
 *    (`outbound queue full; resume with afterSeq=<seq>`): everything before it was written.
 * 4. Over every connection together, outbound bytes beyond the router's total cap close the largest
 *    backlogs at once, the same way (see {@link OutboundBudget}).
 */
export interface OutboundPolicy {
  /** Bytes the socket may hold before the connection counts as behind. */
  readonly highWaterBytes: number;
  /** Per-connection cap, in bytes; at least `highWaterBytes`. */
  readonly maxBytes: number;
  /** How long a connection may stay over `maxBytes`, in ms. */
  readonly graceMs: number;
}

/** WebSocket close code for a connection the router sheds because it does not keep up. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** The close reason for a connection shed as a slow consumer, given its resume cursor per followed thread. */
export function overflowReason(cursors: ReadonlyArray<number | string | undefined>): string {
  if (cursors.length === 1) {
    const seq = cursors[0];
    return seq === undefined ? "outbound queue full; resume with thread/resume" : `outbound queue full; resume with afterSeq=${seq}`;
  }
  return cursors.length === 0 ? "outbound queue full" : "outbound queue full; resume each thread with afterSeq";
}
