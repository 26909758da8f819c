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
  /** Per trend: sample times (ms since start) and values, in arrival order. */
  readonly #samples = new Map<MetricName, { t: number[]; v: number[] }>();
  /** Per counter: sums per second of the run, and when it was first and last added to (ms since start). */
  readonly #counters = new Map<MetricName, { perSecond: number[]; firstAt: number; lastAt: number }>();
  readonly checks = new Map<string, { passes: number; fails: number }>();
  readonly errorMessages: string[] = [];
  /** Iterations that ended in an error, by JSON-RPC code (`connectionLost`, `other` for the rest). */
  readonly errorCodes = new Map<string, number>();
  readonly #vus: Array<{ t: number; vus: number }> = [];
  /** Live totals for the progress line. */
  readonly totals = Object.fromEntries(METRIC_NAMES.map((n) => [n, 0])) as Record<MetricName, number>;
  /** The newest time-to-first-delta samples, for the progress line. */
  readonly recentTtfd: number[] = [];

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  add(metric: MetricName, value: number): void {
    const now = this.elapsedMs();
    if (METRICS[metric].kind === "counter") {
      // Counters are summed per second: a delta counter moves tens of thousands of times a second.
      let c = this.#counters.get(metric);
      if (!c) this.#counters.set(metric, (c = { perSecond: [], firstAt: now, lastAt: now }));
      const sec = Math.floor(now / 1000);
      while (c.perSecond.length <= sec) c.perSecond.push(0);
      c.perSecond[sec]! += value;
      c.lastAt = now;
      this.totals[metric] += value;
    } else {
      let s = this.#samples.get(metric);
      if (!s) this.#samples.set(metric, (s = { t: [], v: [] }));
      s.t.push(now);
      s.v.push(value);
      this.totals[metric] += 1;
    }
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

  /** Counts an iteration's error by its JSON-RPC code. */
  failure(err: unknown): void {
    const code = typeof (err as { code?: unknown })?.code === "number" ? String((err as { code: number }).code) : (err as Error)?.name === "ConnectionLostError" ? "connectionLost" : "other";
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
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
      if (METRICS[name].kind === "trend") out[name] = trendStats(this.#samples.get(name)?.v ?? []);
      else {
        const count = this.totals[name];
        out[name] = { count, rate: round(durationS > 0 ? count / durationS : 0) };
      }
    }
    return out;
  }

  /** Time from the first turn/start answer to the last turn's end, in s (0 without turns). */
  turnSpanS(): number {
    const started = this.#counters.get("tm_turns_started");
    const ended = this.#counters.get("tm_turns_ended");
    if (!started || !ended) return 0;
    return (ended.lastAt - started.firstAt) / 1000;
  }

  /** The run cut into buckets of `bucketS` whole seconds for the report's charts. */
  series(bucketS: number): SeriesPoint[] {
    const end = this.elapsedMs();
    const bucketMs = bucketS * 1000;
    const n = Math.max(1, Math.ceil(end / bucketMs));
    const samples = (name: MetricName): Array<number[]> => {
      const buckets = Array.from({ length: n }, () => [] as number[]);
      const s = this.#samples.get(name);
      if (s) for (let i = 0; i < s.t.length; i++) buckets[Math.min(n - 1, Math.floor(s.t[i]! / bucketMs))]!.push(s.v[i]!);
      return buckets.map((b) => b.sort((a, c) => a - c));
    };
    const sums = (name: MetricName): number[] => {
      const out = new Array<number>(n).fill(0);
      const c = this.#counters.get(name);
      if (c) c.perSecond.forEach((v, sec) => (out[Math.min(n - 1, Math.floor(sec / bucketS))]! += v));
      return out;
    };
    const ttfd = samples("tm_ttfd_ms");
    const turn = samples("tm_turn_ms");
    const [deltas, errors, started, ended, completed] = (["tm_deltas", "tm_errors", "tm_turns_started", "tm_turns_ended", "tm_turns_completed"] as const).map(sums);
    const points: SeriesPoint[] = [];
    let active = 0;
    let vi = 0;
    let vus = 0;
    for (let i = 0; i < n; i++) {
      active += started![i]! - ended![i]!;
      while (vi < this.#vus.length && this.#vus[vi]!.t < (i + 1) * bucketMs) vus = this.#vus[vi++]!.vus;
      const q = (xs: number[], p: number) => (xs.length ? round(pct(xs, p)) : null);
      points.push({
        t: i * bucketS,
        vus,
        activeTurns: active,
        ttfdP50: q(ttfd[i]!, 50),
        ttfdP95: q(ttfd[i]!, 95),
        ttfdP99: q(ttfd[i]!, 99),
        turnP95: q(turn[i]!, 95),
        deltasPerSecond: round(deltas![i]! / bucketS),
        errorsPerSecond: round(errors![i]! / bucketS),
        turnsCompleted: completed![i]!,
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
