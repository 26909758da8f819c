/*
 * How the margin after the drain deadline (`SHUTDOWN_MARGIN_MS`, shutdown.ts) is shared by the steps of
 * a shutdown. Each is an upper bound: a step that finishes sooner leaves its time to the next.
 */

/** Turns handed over (or interrupted) at the deadline: how long their writes are waited for, ms. */
export const SETTLE_MS = 400;
/** A router's close: clients get up to a second to answer the close frame, then their sockets are dropped. */
export const ROUTER_CLOSE_MS = 1_100;
/** Each connection closed after the threads are unloaded (bus, mesh control, event log, store, listeners), ms. */
export const CLOSE_STEP_MS = 150;
/** Kept from a session host's close for the steps after it (three rounds of {@link CLOSE_STEP_MS}), ms. */
export const CLOSING_RESERVE_MS = 3 * CLOSE_STEP_MS;
