/** Trailer carrying the WebSocket close code the same event has on the WebSocket path. */
export const CLOSE_CODE_TRAILER = "tm-close-code";
/** Trailer carrying the close reason (e.g. the `afterSeq` to resume from, for a shed consumer). */
export const CLOSE_REASON_TRAILER = "tm-close-reason";
