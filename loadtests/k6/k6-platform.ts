/**
 * The scenarios' {@link Platform} on k6: `k6/websockets` (one global event loop, so an iteration can hold
 * two connections across a reconnect), `k6/http` for scripting the model simulator, custom metrics
 * declared here in the init context, and `check`. Run configuration comes from `__ENV`.
 */
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Trend } from "k6/metrics";
import { setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { SCENARIOS, TARGET_DEFAULTS, rampStages, type ScenarioName } from "../scenarios/index.ts";
import { DEFAULT_TTFD_P99_MS, DEFAULT_TURN_P95_MS, METRICS, METRIC_NAMES, thresholds, type MetricName } from "../scenarios/metrics.ts";
import type { LoadSocket, Platform, Target } from "../scenarios/platform.ts";

const env = (name: string, fallback: string): string => __ENV[name] ?? fallback;
const num = (name: string, fallback: number): number => Number(env(name, String(fallback)));

// k6 only accepts custom metrics created in the init context.
const sinks = {} as Record<MetricName, { add(v: number): void }>;
for (const name of METRIC_NAMES) sinks[name] = METRICS[name].kind === "trend" ? new Trend(name, METRICS[name].time) : new Counter(name);

const k6Platform: Platform = {
  connect(url, headers) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, null, { headers });
      let open = false;
      const onMessage: Array<(t: string) => void> = [];
      const onClose: Array<(c: number) => void> = [];
      ws.onmessage = (e) => onMessage.forEach((h) => h(e.data));
      ws.onclose = (e) => onClose.forEach((h) => h(e.code ?? 1006));
      ws.onerror = (e) => {
        if (!open) reject(new Error(`WebSocket to ${url} failed: ${e.error ?? "error"}`));
      };
      ws.onopen = () => {
        open = true;
        const socket: LoadSocket = {
          send: (t) => ws.send(t),
          close: () => ws.close(),
          onMessage: (h) => void onMessage.push(h),
          onClose: (h) => void onClose.push(h),
        };
        resolve(socket);
      };
    });
  },
  async post(url, body) {
    const r = await http.asyncRequest("POST", url, JSON.stringify(body), { headers: { "content-type": "application/json" } });
    return r.status;
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => Date.now(),
  add: (metric, value) => sinks[metric].add(value),
  check(name, ok) {
    if (!ok) sinks.tm_errors.add(1);
    return check(ok, { [name]: (v) => v });
  },
};

/** The run's target from `__ENV`: ROUTER_URL (one or several, comma-separated), TOKEN, SIM_URL, DELTAS, TOKENS_PER_SECOND, TURNS_PER_THREAD. */
export function k6Target(): Target {
  return {
    url: env("ROUTER_URL", "ws://127.0.0.1:8080"),
    token: env("TOKEN", ""),
    simUrl: env("SIM_URL", ""),
    deltas: num("DELTAS", TARGET_DEFAULTS.deltas),
    tokensPerSecond: num("TOKENS_PER_SECOND", TARGET_DEFAULTS.tokensPerSecond),
    turnsPerThread: num("TURNS_PER_THREAD", TARGET_DEFAULTS.turnsPerThread),
  };
}

/**
 * k6 options of a scenario: ramping VUs (VUS, DURATION seconds, RAMP seconds) or, with ITERATIONS,
 * that many iterations per VU started at once (the cold-path shape); thresholds from TTFD_P99_MS and TURN_P95_MS.
 */
export function k6Options(name: ScenarioName): Record<string, unknown> {
  const vus = num("VUS", 10);
  const iterations = num("ITERATIONS", 0);
  const executor =
    iterations > 0
      ? { executor: "per-vu-iterations", vus, iterations, maxDuration: `${num("DURATION", 600)}s` }
      : { executor: "ramping-vus", startVUs: 0, stages: rampStages(vus, num("DURATION", 60), num("RAMP", 10)), gracefulRampDown: "30s" };
  return {
    scenarios: { [name]: { ...executor, exec: "default" } },
    thresholds: thresholds({ ttfdP99Ms: num("TTFD_P99_MS", DEFAULT_TTFD_P99_MS), turnP95Ms: num("TURN_P95_MS", DEFAULT_TURN_P95_MS) }),
  };
}

/** The default function of a scenario's k6 script. */
export function k6Iteration(name: ScenarioName): () => Promise<void> {
  const target = k6Target();
  // ROUTER_URL may list several routers (comma-separated): VUs are spread over them.
  const urls = target.url.split(",");
  return async () => {
    const vu = exec.vu.idInTest;
    try {
      await SCENARIOS[name]({ vu, iteration: exec.vu.iterationInScenario, target: { ...target, url: urls[(vu - 1) % urls.length]! }, platform: k6Platform });
    } catch (err) {
      sinks.tm_errors.add(1);
      console.error(`vu ${exec.vu.idInTest}: ${String(err)}`);
    }
  };
}

/** Summary: a table of the Threadmesh metrics on stdout and the whole k6 summary as SUMMARY_JSON (default loadtest-k6.json). */
export function handleSummary(data: { metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }> }): Record<string, string> {
  const lines = ["metric                 value"];
  for (const name of METRIC_NAMES) {
    const m = data.metrics[name];
    if (!m) continue;
    const v = m.values;
    const shown = METRICS[name].kind === "trend" ? `p50 ${v["med"]?.toFixed(1)}  p95 ${v["p(95)"]?.toFixed(1)}  p99 ${v["p(99)"]?.toFixed(1)}  max ${v["max"]?.toFixed(1)}` : String(v["count"] ?? 0);
    const failed = Object.entries(m.thresholds ?? {}).filter(([, t]) => !t.ok).map(([k]) => k);
    lines.push(`${name.padEnd(22)} ${shown}${failed.length ? `  FAILED ${failed.join(", ")}` : ""}`);
  }
  return { stdout: `${lines.join("\n")}\n`, [env("SUMMARY_JSON", "loadtest-k6.json")]: JSON.stringify(data, null, 2) };
}
