/**
 * The Node runner's metrics: every sample of every scenario metric with its time, named checks, the
 * first error messages, and the VU count over time. Aggregates (k6's trend and counter stats) and time
 * series for the report are computed from the samples at the end.
 */
import { METRICS, METRIC_NAMES, type MetricName } from "../scenarios/metrics.ts";

/** k6's trend statistics, in the metric's unit. */
export interface TrendStats {
  count: number;
  avg: number;
  min: number;
  med: number;
  max: number;
  "p(90)": number;
  "p(95)": number;
  "p(99)": number;
}
export interface CounterStats {
  count: number;
  rate: number;
}

/** One time bucket of the report's charts. */
export interface SeriesPoint {
  /** Seconds since the run started (bucket start). */
  t: number;
  vus: number;
  activeTurns: number;
  ttfdP50: number | null;
  ttfdP95: number | null;
  ttfdP99: number | null;
  turnP95: number | null;
  deltasPerSecond: number;
  errorsPerSecond: number;
  turnsCompleted: number;
}

/** Error messages kept for the summary; the rest are only counted. */
const MAX_ERROR_MESSAGES = 20;

export class Recorder {
  readonly startedAt = performance.now();
  /** Per metric: sample times (ms since start) and values, in arrival order. */
  readonly #samples = new Map<MetricName, { t: number[]; v: number[] }>(METRIC_NAMES.map((n) => [n, { t: [], v: [] }]));
  readonly checks = new Map<string, { passes: number; fails: number }>();
  readonly errorMessages: string[] = [];
  readonly #vus: Array<{ t: number; vus: number }> = [];
  /** Live totals for the progress line. */
  readonly totals = Object.fromEntries(METRIC_NAMES.map((n) => [n, 0])) as Record<MetricName, number>;
  /** The newest time-to-first-delta samples, for the progress line. */
  readonly recentTtfd: number[] = [];

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  add(metric: MetricName, value: number): void {
    const s = this.#samples.get(metric)!;
    s.t.push(this.elapsedMs());
    s.v.push(value);
    this.totals[metric] += METRICS[metric].kind === "counter" ? value : 1;
    if (metric === "tm_ttfd_ms") {
      this.recentTtfd.push(value);
      if (this.recentTtfd.length > 1_000) this.recentTtfd.shift();
    }
  }

  check(name: string, ok: boolean): void {
    let c = this.checks.get(name);
    if (!c) this.checks.set(name, (c = { passes: 0, fails: 0 }));
    if (ok) c.passes++;
    else {
      c.fails++;
      this.add("tm_errors", 1);
      this.error(`check failed: ${name}`);
    }
  }

  error(message: string): void {
    if (this.errorMessages.length < MAX_ERROR_MESSAGES) this.errorMessages.push(`${(this.elapsedMs() / 1000).toFixed(1)}s ${message}`);
  }

  /** VUs running now. */
  get currentVus(): number {
    return this.#vus.at(-1)?.vus ?? 0;
  }

  vus(n: number): void {
    const last = this.#vus.at(-1);
    if (last?.vus !== n) this.#vus.push({ t: this.elapsedMs(), vus: n });
  }

  /** k6-style statistics of every metric over the whole run (`durationS`: the run's length, for counter rates). */
  stats(durationS: number): Record<MetricName, TrendStats | CounterStats> {
    const out = {} as Record<MetricName, TrendStats | CounterStats>;
    for (const name of METRIC_NAMES) {
      const { v } = this.#samples.get(name)!;
      if (METRICS[name].kind === "trend") out[name] = trendStats(v);
      else {
        const count = v.reduce((a, b) => a + b, 0);
        out[name] = { count, rate: round(durationS > 0 ? count / durationS : 0) };
      }
    }
    return out;
  }

  /** Time from the first turn/start answer to the last turn's end, in s (0 without turns). */
  turnSpanS(): number {
    const started = this.#samples.get("tm_turns_started")!.t;
    const ended = this.#samples.get("tm_turns_ended")!.t;
    if (started.length === 0 || ended.length === 0) return 0;
    return (ended.at(-1)! - started[0]!) / 1000;
  }

  /** The run cut into buckets of `bucketMs` for the report's charts. */
  series(bucketMs: number): SeriesPoint[] {
    const end = this.elapsedMs();
    const n = Math.max(1, Math.ceil(end / bucketMs));
    const per = (name: MetricName): Array<number[]> => {
      const buckets = Array.from({ length: n }, () => [] as number[]);
      const { t, v } = this.#samples.get(name)!;
      for (let i = 0; i < t.length; i++) buckets[Math.min(n - 1, Math.floor(t[i]! / bucketMs))]!.push(v[i]!);
      return buckets;
    };
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const [ttfd, turn, deltas, errors, started, ended, completed] = (
      ["tm_ttfd_ms", "tm_turn_ms", "tm_deltas", "tm_errors", "tm_turns_started", "tm_turns_ended", "tm_turns_completed"] as const
    ).map(per);
    const points: SeriesPoint[] = [];
    let active = 0;
    let vi = 0;
    let vus = 0;
    for (let i = 0; i < n; i++) {
      active += sum(started![i]!) - sum(ended![i]!);
      while (vi < this.#vus.length && this.#vus[vi]!.t < (i + 1) * bucketMs) vus = this.#vus[vi++]!.vus;
      const sorted = [...ttfd![i]!].sort((a, b) => a - b);
      const turnSorted = [...turn![i]!].sort((a, b) => a - b);
      points.push({
        t: round((i * bucketMs) / 1000),
        vus,
        activeTurns: active,
        ttfdP50: sorted.length ? round(pct(sorted, 50)) : null,
        ttfdP95: sorted.length ? round(pct(sorted, 95)) : null,
        ttfdP99: sorted.length ? round(pct(sorted, 99)) : null,
        turnP95: turnSorted.length ? round(pct(turnSorted, 95)) : null,
        deltasPerSecond: round(sum(deltas![i]!) / (bucketMs / 1000)),
        errorsPerSecond: round(sum(errors![i]!) / (bucketMs / 1000)),
        turnsCompleted: sum(completed![i]!),
      });
    }
    return points;
  }
}

/** Nearest-rank percentile of an ascending array. */
export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function trendStats(values: readonly number[]): TrendStats {
  const s = [...values].sort((a, b) => a - b);
  const count = s.length;
  return {
    count,
    avg: round(count ? s.reduce((a, b) => a + b, 0) / count : 0),
    min: round(s[0] ?? 0),
    med: round(pct(s, 50)),
    max: round(s.at(-1) ?? 0),
    "p(90)": round(pct(s, 90)),
    "p(95)": round(pct(s, 95)),
    "p(99)": round(pct(s, 99)),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;
