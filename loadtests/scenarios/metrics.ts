/**
 * Every metric the scenarios record, with its kind. k6 needs its custom metrics declared in the init
 * context, so this table is the one place they are named; the Node runner aggregates the same names.
 */
export const METRICS = {
  tm_connect_ms: { kind: "trend", time: true, help: "WebSocket upgrade plus initialize, ms" },
  tm_ttfd_ms: { kind: "trend", time: true, help: "turn/start sent to the turn's first agent delta, ms" },
  tm_turn_ms: { kind: "trend", time: true, help: "turn/start sent to turn/completed, ms" },
  tm_resume_ms: { kind: "trend", time: true, help: "reconnect plus thread/resume with afterSeq to its response, ms" },
  tm_turns_started: { kind: "counter", time: false, help: "turns started (turn/start answered)" },
  tm_turns_ended: { kind: "counter", time: false, help: "turns that ended, whatever the status (a dropped connection included)" },
  tm_turns_completed: { kind: "counter", time: false, help: "turns that ended with status completed" },
  tm_turns_interrupted: { kind: "counter", time: false, help: "turns that ended interrupted" },
  tm_turns_failed: { kind: "counter", time: false, help: "turns that ended failed" },
  tm_deltas: { kind: "counter", time: false, help: "agent message deltas received (a coalesced frame counts its seqs)" },
  tm_approvals: { kind: "counter", time: false, help: "approval requests answered by the auto-responder" },
  tm_steers: { kind: "counter", time: false, help: "turn/steer requests accepted" },
  tm_reconnects: { kind: "counter", time: false, help: "forced reconnects that resumed with afterSeq" },
  tm_server_closes: { kind: "counter", time: false, help: "connections the server closed (draining router) that the client reopened, resuming with afterSeq" },
  tm_turn_starts_unanswered: { kind: "counter", time: false, help: "turn/start answers lost with a connection the server closed; the client looked the turn up and sent it again only if it had not begun" },
  tm_threads_restarted: { kind: "counter", time: false, help: "new threads started because the server closed the connection before the first turn of the previous one (which cannot be resumed yet)" },
  tm_turns_lost: { kind: "counter", time: false, help: "turns whose end never reached the client (connection lost for good)" },
  tm_replay_gaps: { kind: "counter", time: false, help: "seqs missing from a thread's stream (live or replayed)" },
  tm_replay_repeats: { kind: "counter", time: false, help: "seqs delivered twice on one thread's stream" },
  tm_overloaded: { kind: "counter", time: false, help: "requests answered -32001 (overloaded, shed, draining) and retried after retryAfterMs" },
  tm_answers_superseded: { kind: "counter", time: false, help: "agent messages cut off by a handover and answered again whole by the adopting host's new model request" },
  tm_text_mismatches: { kind: "counter", time: false, help: "completed turns whose delivered agent text differs from the scripted reply" },
  tm_errors: { kind: "counter", time: false, help: "JSON-RPC errors, unexpected closes and failed checks" },
} as const;

export type MetricName = keyof typeof METRICS;
export type MetricKind = (typeof METRICS)[MetricName]["kind"];
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/**
 * Pass/fail criteria in k6 threshold syntax (`p(99)<1000`, `count==0`, `avg<…`); the Node runner
 * evaluates the same expressions. `ttfdP99Ms` is the time-to-first-delta bound.
 */
export function thresholds(opts: { ttfdP99Ms: number; turnP95Ms: number }): Record<string, string[]> {
  return {
    tm_ttfd_ms: [`p(99)<${opts.ttfdP99Ms}`],
    tm_turn_ms: [`p(95)<${opts.turnP95Ms}`],
  tm_errors: ["count==0"],
    tm_replay_gaps: ["count==0"],
    tm_replay_repeats: ["count==0"],
    tm_turns_failed: ["count==0"],
    tm_turns_lost: ["count==0"],
    tm_text_mismatches: ["count==0"],
  };
}

/** Default bounds: generous for a shared 2-core machine; tighten with the runner's flags or k6 env. */
export const DEFAULT_TTFD_P99_MS = 1_000;
export const DEFAULT_TURN_P95_MS = 30_000;
