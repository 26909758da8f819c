/** The summary table printed at the end of a run. */
import { METRICS, METRIC_NAMES } from "../scenarios/metrics.ts";
import type { CounterStats, TrendStats } from "./recorder.ts";
import type { LoadTestResult } from "./result.ts";

export function summaryTable(r: LoadTestResult): string {
  const rows: string[][] = [["metric", "count", "p50", "p95", "p99", "max", "threshold"]];
  for (const name of METRIC_NAMES) {
    const s = r.metrics[name]!;
    const th = r.thresholds.filter((t) => t.metric === name).map((t) => `${t.ok ? "ok  " : "FAIL"} ${t.expression}`).join("; ");
    if (METRICS[name].kind === "trend") {
      const t = s as TrendStats;
      rows.push([name, String(t.count), t.med.toFixed(1), t["p(95)"].toFixed(1), t["p(99)"].toFixed(1), t.max.toFixed(1), th]);
    } else rows.push([name, String((s as CounterStats).count), "", "", "", "", th]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd());
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const failedChecks = Object.entries(r.checks).filter(([, c]) => c.fails > 0);
  lines.push(
    "",
    `${r.scenario}: ${r.iterations} iterations in ${r.durationS.toFixed(1)} s${r.mesh ? ` on ${r.mesh}` : ""}; ${r.deltasPerSecond.toLocaleString("en-US")} deltas/s from first turn to last; load average ${r.loadAverage.start} → ${r.loadAverage.end}`,
    ...(r.roll === null ? [] : ["error" in r.roll ? `roll failed: ${r.roll.error}` : `roll: ${r.roll.steps.length} processes replaced one at a time in ${r.roll.durationS.toFixed(1)} s (drain deadline ${r.roll.drainDeadlineMs} ms)`]),
    ...(Object.keys(r.errorCodes).length > 0 ? [`errors by code: ${Object.entries(r.errorCodes).map(([c, n]) => `${c} ×${n}`).join(", ")}`] : []),
    ...failedChecks.map(([name, c]) => `check failed ${c.fails}× (passed ${c.passes}×): ${name}`),
    ...r.errors.slice(0, 5).map((e) => `error: ${e}`),
    r.ok ? "thresholds: all passed" : `thresholds: ${r.thresholds.filter((t) => !t.ok).length} failed`,
  );
  return lines.join("\n");
}
