/** The JSON result of a runner run (what `--out` holds as result.json and the HTML report draws). */
import type { ThresholdResult } from "./thresholds.ts";
import type { CounterStats, SeriesPoint, TrendStats } from "./recorder.ts";
import type { Target } from "../scenarios/platform.ts";
import type { RollReport } from "./roll.ts";

export interface LoadTestResult {
  scenario: string;
  startedAt: string;
  /** Wall time of the run, s. */
  durationS: number;
  /** The executor, as k6 would name it, and its settings. */
  executor: Record<string, unknown>;
  target: Omit<Target, "token">;
  /** What `--spawn` started, when it did. */
  mesh: string | null;
  iterations: number;
  /** Iterations still running when the graceful stop ended. */
  abandoned: number;
  metrics: Record<string, TrendStats | CounterStats>;
  /** Deltas over the time from the first turn/start answer to the last turn's end. */
  deltasPerSecond: number;
  thresholds: ThresholdResult[];
  checks: Record<string, { passes: number; fails: number }>;
  errors: string[];
  /** Iterations that ended in an error, by JSON-RPC code (`connectionLost`: the connection closed before the answer). */
  errorCodes: Record<string, number>;
  /** The rolling restart of `--roll`, when there was one (or why it failed). */
  roll: RollReport | { error: string } | null;
  /** Seconds per point of {@link series}. */
  bucketS: number;
  series: SeriesPoint[];
  /** The machine's 1-minute load average at the start and the end of the run (the runner shares it with what it measures). */
  loadAverage: { start: number; end: number };
  ok: boolean;
}
