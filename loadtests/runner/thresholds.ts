/** Evaluates k6 threshold expressions (`p(99)<1000`, `count==0`, `avg<=5`, `rate>0`) against the runner's statistics. */
import type { CounterStats, TrendStats } from "./recorder.ts";

export interface ThresholdResult {
  metric: string;
  expression: string;
  /** The statistic's value in this run (null when the expression names none the metric has). */
  value: number | null;
  ok: boolean;
}

const EXPR = /^\s*(avg|min|max|med|count|rate|p\(\d+(?:\.\d+)?\))\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function evaluateThresholds(thresholds: Record<string, string[]>, stats: Record<string, TrendStats | CounterStats>): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [metric, expressions] of Object.entries(thresholds)) {
    for (const expression of expressions) {
      const m = EXPR.exec(expression);
      const s = stats[metric] as unknown as Record<string, number> | undefined;
      if (!m || !s) {
        out.push({ metric, expression, value: null, ok: false });
        continue;
      }
      const [, stat, op, bound] = m;
      const value = stat!.startsWith("p(") ? percentileOf(s, stat!) : (s[stat!] ?? null);
      out.push({ metric, expression, value, ok: value !== null && compare(value, op!, Number(bound)) });
    }
  }
  return out;
}

/** The trend's percentile when the runner computed it; a trend without samples passes any bound. */
function percentileOf(s: Record<string, number>, stat: string): number | null {
  if (s.count === 0) return 0;
  return s[stat] ?? null;
}

function compare(v: number, op: string, b: number): boolean {
  switch (op) {
    case "<":
      return v < b;
    case "<=":
      return v <= b;
    case ">":
      return v > b;
    case ">=":
      return v >= b;
    case "==":
      return v === b;
    default:
      return v !== b;
  }
}
