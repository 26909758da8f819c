/**
 * The small surface every scenario is written against. `loadtests/k6/k6-platform.ts` maps it onto k6
 * (`k6/websockets`, `k6/http`, `k6/metrics`, `check`); `loadtests/runner/node-platform.ts` onto `ws`,
 * `fetch` and the runner's own recorder. Scenario files import nothing else, so the same source runs
 * under both.
 */
import type { MetricName } from "./metrics.ts";

/** An open WebSocket, text frames only. */
export interface LoadSocket {
  send(text: string): void;
  /** Closes the connection (idempotent); `onClose` handlers still run. */
  close(): void;
  onMessage(handler: (text: string) => void): void;
  /** Runs once, with the close code (1006 when the connection ended without a close frame). */
  onClose(handler: (code: number) => void): void;
}

/** What a scenario may do besides speaking the protocol. */
export interface Platform {
  /** Opens a WebSocket with these upgrade headers; rejects when the upgrade fails. */
  connect(url: string, headers: Record<string, string>): Promise<LoadSocket>;
  /** POSTs a JSON body and resolves with the HTTP status (0 when the request failed). */
  post(url: string, body: unknown): Promise<number>;
  sleep(ms: number): Promise<void>;
  /** Milliseconds on a clock that only moves forward within one run. */
  now(): number;
  /** Records one sample of a metric of {@link METRICS}. */
  add(metric: MetricName, value: number): void;
  /** Records a named check; returns `ok`. A failed check also counts one `tm_errors`. */
  check(name: string, ok: boolean): boolean;
}

/** Where and how a run reaches the service. */
export interface Target {
  /** Router WebSocket URL, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** API key or capability token sent as `Authorization: Bearer`; empty sends none. */
  token: string;
  /** Model simulator base URL (without `/v1`); when set, each turn's reply is scripted there. */
  simUrl: string;
  /** Deltas a scripted reply streams. Default 200. */
  deltas: number;
  /** Pace of a scripted reply in deltas per second; 0 = as fast as the simulator can. */
  tokensPerSecond: number;
  /** Turns the `turns` scenario runs on each new thread (the first is the cold path). Default 1. */
  turnsPerThread: number;
  /**
   * When the server closes a connection (a draining router, a shed slow reader), reopen it and resume
   * each followed thread with `afterSeq`, as a client that survives rolling upgrades does; otherwise
   * such a close ends the iteration's turns as `disconnected` and counts an error.
   */
  resume?: boolean;
}

/** One iteration's identity: the virtual user (from 1) and its iteration number (from 0). */
export interface IterationContext {
  vu: number;
  iteration: number;
  target: Target;
  platform: Platform;
}
