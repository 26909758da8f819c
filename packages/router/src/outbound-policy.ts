/**
 * Slow-consumer policy, applied per connection to what is queued for it plus what its socket still
 * buffers (`bufferedBytes`):
 *
 * 1. Up to `highWaterBytes` everything is written.
 * 2. Above `highWaterBytes`, streaming item deltas (`item/…Delta`, `item/…/delta`) are dropped for that
 *    connection and counted (`tm_router_outbound_dropped_total{reason="slowConsumer"}`). They are
 *    recoverable: `item/completed` carries the item's full content. Responses, errors, server requests
 *    and every other notification are still written.
 * 3. Above `maxBytes`, the connection is closed with 1013 (try again later) and a reason naming the
 *    cursor to resume from (`outbound queue full; resume with afterSeq=<seq>`), instead of dropping
 *    anything that cannot be recovered.
 */
export interface OutboundPolicy {
  /** In bytes. */
  readonly highWaterBytes: number;
  /** In bytes; at least `highWaterBytes`. */
  readonly maxBytes: number;
}

/** WebSocket close code for a connection the router sheds because it does not keep up. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** True for the streaming deltas that may be dropped under pressure. */
export function isDroppableDelta(method: string): boolean {
  return method.startsWith("item/") && (method.endsWith("Delta") || method.endsWith("/delta"));
}

/** The close reason for an overflowing connection, given the last seq written per followed thread. */
export function overflowReason(lastSeqs: ReadonlyArray<string | undefined>): string {
  if (lastSeqs.length === 1) {
    const seq = lastSeqs[0];
    return seq === undefined ? "outbound queue full; resume with thread/resume" : `outbound queue full; resume with afterSeq=${seq}`;
  }
  return lastSeqs.length === 0 ? "outbound queue full" : "outbound queue full; resume each thread with afterSeq";
}
