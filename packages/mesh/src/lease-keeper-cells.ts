/**
 * Memory shared between a host's main thread and its lease keeper worker. Times are ms since the
 * epoch in a BigInt64Array, the load in an Int32Array; every access goes through Atomics.
 */
export const enum TimeCell {
  /** When the main thread last showed it runs (its pulse timer fired). */
  AliveAt = 0,
  /** `at` of the newest heartbeat the NATS server acknowledged: the lease runs from there. */
  RenewedAt = 1,
  /** Times the worker found the lease had run out before it renewed it again. */
  Lapses = 2,
  /** Non-zero once the main thread asked the worker to stop: no beat leaves after it. */
  Stopped = 3,
}
export const TIME_CELLS = 4;

export const enum LoadCell {
  LoadedThreads = 0,
  ActiveTurns = 1,
  Capacity = 2,
  TurnCapacity = 3,
  EventLoopLagMs = 4,
  Draining = 5,
  /** Turns started, modulo 2^31 (a counter: consumers take differences). */
  TurnsStarted = 6,
  /** -1 while unknown. */
  MeanTurnMs = 7,
  /** -1 while unknown. */
  ModelTtftMs = 8,
}
export const LOAD_CELLS = 9;

/** What the worker is started with (`workerData`). */
export interface LeaseKeeperData {
  servers: string[];
  name: string;
  bucket: string | undefined;
  replicas: number | undefined;
  hostId: string;
  intervalMs: number;
  leaseTtlMs: number;
  /** Part of the lease the main thread trusts (it stops acting earlier than others see it dead). */
  selfLeaseMs: number;
  /** Longest silence of the main thread the worker still beats through, in ms. */
  stallMs: number;
  times: SharedArrayBuffer;
  load: SharedArrayBuffer;
}

/** Messages the worker posts to the main thread. */
export type LeaseKeeperReport = { kind: "ready" } | { kind: "failed"; message: string } | { kind: "beatFailed"; message: string };
