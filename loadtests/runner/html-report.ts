/**
 * A self-contained HTML report of a run: the summary, thresholds and checks as tables, and inline SVG
 * line charts (time to first delta percentiles and turn p95 over time, active turns and VUs, deltas/s,
 * errors/s). No script, no external resource.
 */
import { summaryTable } from "./summary.ts";
import type { LoadTestResult } from "./result.ts";
import type { SeriesPoint } from "./recorder.ts";

interface Line {
  name: string;
  color: string;
  values: Array<number | null>;
}

const W = 760;
const H = 220;
const PAD = { left: 56, right: 12, top: 24, bottom: 28 };

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A nice round step for about five ticks up to `max`. */
function tickStep(max: number): number {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
}

/** One SVG line chart over the series' time axis; null values break the line. */
export function lineChart(title: string, unit: string, t: number[], lines: Line[]): string {
  const max = Math.max(1e-9, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null)));
  const step = tickStep(max);
  const top = Math.ceil(max / step) * step;
  const tMax = Math.max(1, t.at(-1) ?? 1);
  const x = (s: number) => PAD.left + (s / tMax) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toPrecision(4))}</text>`);
  }
  const tStep = tickStep(tMax);
  for (let s = 0; s <= tMax; s += tStep) parts.push(`<text x="${x(s)}" y="${H - 8}" text-anchor="middle">${Number(s.toPrecision(4))}s</text>`);
  lines.forEach((l, li) => {
    let d = "";
    let pen = false;
    l.values.forEach((v, i) => {
      if (v === null) return void (pen = false);
      d += `${pen ? "L" : "M"}${x(t[i]!).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.6"/>`);
    parts.push(`<rect x="${PAD.left + 8 + li * 130}" y="6" width="10" height="10" fill="${l.color}"/><text x="${PAD.left + 22 + li * 130}" y="15">${esc(l.name)}</text>`);
  });
  return `<figure><figcaption>${esc(title)} (${esc(unit)})</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${parts.join("")}</svg></figure>`;
}

export function htmlReport(r: LoadTestResult): string {
  const s: SeriesPoint[] = r.series;
  const t = s.map((p) => p.t);
  const charts = [
    lineChart("Time to first delta and turn duration", "ms", t, [
      { name: "ttfd p50", color: "#2b8a3e", values: s.map((p) => p.ttfdP50) },
      { name: "ttfd p95", color: "#e67700", values: s.map((p) => p.ttfdP95) },
      { name: "ttfd p99", color: "#c92a2a", values: s.map((p) => p.ttfdP99) },
      { name: "turn p95", color: "#5f3dc4", values: s.map((p) => p.turnP95) },
    ]),
    lineChart("Active turns and virtual users", "count", t, [
      { name: "active turns", color: "#1971c2", values: s.map((p) => p.activeTurns) },
      { name: "VUs", color: "#868e96", values: s.map((p) => p.vus) },
    ]),
    lineChart("Deltas received", "per second", t, [{ name: "deltas/s", color: "#0c8599", values: s.map((p) => p.deltasPerSecond) }]),
    lineChart("Errors", "per second", t, [{ name: "errors/s", color: "#c92a2a", values: s.map((p) => p.errorsPerSecond) }]),
  ];
  const thresholdRows = r.thresholds
    .map((th) => `<tr class="${th.ok ? "ok" : "fail"}"><td>${esc(th.metric)}</td><td>${esc(th.expression)}</td><td>${th.value ?? "–"}</td><td>${th.ok ? "passed" : "FAILED"}</td></tr>`)
    .join("");
  const checkRows = Object.entries(r.checks)
    .map(([name, c]) => `<tr class="${c.fails ? "fail" : "ok"}"><td>${esc(name)}</td><td>${c.passes}</td><td>${c.fails}</td></tr>`)
    .join("");
  const rollSection =
    r.roll === null
      ? ""
      : "error" in r.roll
        ? `<h2>Rolling restart</h2><p class="fail">${esc(r.roll.error)}</p>`
        : `<h2>Rolling restart</h2><p>${r.roll.steps.length} processes replaced one at a time in ${r.roll.durationS.toFixed(1)} s (drain deadline ${r.roll.drainDeadlineMs} ms).</p><table><tr><th>at s</th><th>role</th><th>old</th><th>new</th><th>ready ms</th><th>stop ms</th><th>exit</th></tr>${r.roll.steps
            .map((st) => `<tr><td>${st.atS}</td><td>${st.role}</td><td>${esc(st.old)}</td><td>${esc(st.new)}</td><td>${st.readyMs}</td><td>${st.stopMs}</td><td>${esc(String(st.exit))}</td></tr>`)
            .join("")}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Threadmesh load test: ${esc(r.scenario)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#212529;max-width:820px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #dee2e6;text-align:left}
tr.fail td{color:#c92a2a;font-weight:600}
pre{background:#f8f9fa;padding:12px;overflow-x:auto;font-size:12px}
svg text{font-size:11px;fill:#495057}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
</style></head><body>
<h1>Threadmesh load test: ${esc(r.scenario)} — ${r.ok ? "passed" : "FAILED"}</h1>
<p>Started ${esc(r.startedAt)}, ${r.durationS.toFixed(1)} s, ${r.iterations} iterations${r.mesh ? `, on ${esc(r.mesh)}` : ""}; target ${esc(r.target.url)}; ${r.target.deltas} deltas per scripted reply${r.target.simUrl ? "" : " (no simulator: the model answers as configured)"}.</p>
${charts.join("\n")}
${rollSection}
<h2>Thresholds</h2><table><tr><th>metric</th><th>threshold</th><th>value</th><th></th></tr>${thresholdRows}</table>
<h2>Checks</h2><table><tr><th>check</th><th>passed</th><th>failed</th></tr>${checkRows}</table>
<h2>Summary</h2><pre>${esc(summaryTable(r))}</pre>
</body></html>
`;
}
