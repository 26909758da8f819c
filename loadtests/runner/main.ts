/**
 * `npm run loadtest -- --scenario turns --vus 50 --duration 60s [--url ws://… --token …] [--spawn routers=2,hosts=3]`:
 * runs one of the shared scenarios (loadtests/scenarios, the same ones the k6 scripts run) from Node,
 * shows a live progress line on a terminal, prints a summary table and writes `result.json` and
 * `report.html` to `--out`. Exit status: 0 when every threshold passed, 99 when one failed (as k6),
 * 2 for bad arguments, 1 when the run could not start.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SCENARIOS, SCENARIO_NAMES, TARGET_DEFAULTS, rampStages, type ScenarioName } from "../scenarios/index.ts";
import { DEFAULT_TTFD_P99_MS, DEFAULT_TURN_P95_MS, thresholds } from "../scenarios/metrics.ts";
import type { Target } from "../scenarios/platform.ts";
import { execute, type Executor } from "./executor.ts";
import { htmlReport } from "./html-report.ts";
import { nodePlatform } from "./node-platform.ts";
import { startProgress } from "./progress.ts";
import { Recorder } from "./recorder.ts";
import type { LoadTestResult } from "./result.ts";
import { SpawnSpecError, parseMeshSpec, spawnMesh, type SpawnedMesh } from "./spawn-mesh.ts";
import { evaluateThresholds } from "./thresholds.ts";
import { summaryTable } from "./summary.ts";

const USAGE = `usage: npm run loadtest -- --scenario NAME [options]

  --scenario NAME          ${SCENARIO_NAMES.join(" | ")} (default turns)
  --vus N                  virtual users (default 10)
  --duration D             run length, e.g. 30s, 2m (default 30s); with --iterations, the longest it may take
  --ramp D                 ramp-up and ramp-down time of the VUs (default 5s; 0 = all at once)
  --iterations N           run N iterations per VU, all VUs at once, instead of ramping (k6 per-vu-iterations)
  --url URL[,URL…]         router WebSocket URL(s); VUs are spread over them
  --token TOKEN            API key or capability token (default: $THREADMESH_TOKEN, else data/dev-api-key)
  --sim-url URL            model simulator to script replies in (default: the spawned one)
  --spawn SPEC             start a mesh for the run: embedded | routers=N,hosts=N[,nats=N]
  --roll                   with --spawn routers=N,hosts=N: once the VUs are up, replace every router, then
                           every host, one at a time (new process, /readyz, SIGTERM to the old one) while
                           clients connect through one front port and resume with afterSeq when closed;
                           the run lasts at least until the roll is over, and fails on any turn not completed
  --mesh-env KEY=VALUE     environment of the spawned mesh's processes (repeatable),
                           e.g. THREADMESH_SHEDDING=false
  --deltas N               deltas per scripted reply (default ${TARGET_DEFAULTS.deltas})
  --tokens-per-second N    pace of scripted replies, 0 = as fast as possible (default ${TARGET_DEFAULTS.tokensPerSecond})
  --turns-per-thread N     turns per new thread in the turns scenario (default ${TARGET_DEFAULTS.turnsPerThread})
  --ttfd-p99-ms N          threshold on p99 time to first delta (default ${DEFAULT_TTFD_P99_MS})
  --turn-p95-ms N          threshold on p95 turn duration (default ${DEFAULT_TURN_P95_MS})
  --out DIR                where result.json and report.html go (default loadtests/results/<scenario>-<time>)
  --help`;

/** Seconds after the ramp-up before `--roll` replaces the first process. */
const ROLL_AFTER_RAMP_S = 2;

/** Time iterations in flight get to finish after the run's end, ms (k6's default gracefulStop is 30 s). */
const GRACEFUL_STOP_MS = 30_000;

class UsageError extends Error {}

function seconds(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
  if (!m) throw new UsageError(`--${flag}: expected a duration like 30s or 2m, got "${v}"`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n / 1000 : m[2] === "m" ? n * 60 : m[2] === "h" ? n * 3600 : n;
}

function int(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag}: expected an integer ≥ ${min}, got "${v}"`);
  return n;
}

function defaultToken(): string {
  if (process.env.THREADMESH_TOKEN) return process.env.THREADMESH_TOKEN;
  const file = resolve("data/dev-api-key");
  return existsSync(file) ? readFileSync(file, "utf8").trim() : "";
}

async function main(argv: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string", default: "turns" },
      vus: { type: "string", default: "10" },
      duration: { type: "string", default: "30s" },
      ramp: { type: "string", default: "5s" },
      iterations: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      "sim-url": { type: "string" },
      spawn: { type: "string" },
      roll: { type: "boolean", default: false },
      "mesh-env": { type: "string", multiple: true, default: [] },
      deltas: { type: "string", default: String(TARGET_DEFAULTS.deltas) },
      "tokens-per-second": { type: "string", default: String(TARGET_DEFAULTS.tokensPerSecond) },
      "turns-per-thread": { type: "string", default: String(TARGET_DEFAULTS.turnsPerThread) },
      "ttfd-p99-ms": { type: "string", default: String(DEFAULT_TTFD_P99_MS) },
      "turn-p95-ms": { type: "string", default: String(DEFAULT_TURN_P95_MS) },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (!(a.scenario! in SCENARIOS)) throw new UsageError(`--scenario: one of ${SCENARIO_NAMES.join(", ")}; got "${a.scenario}"`);
  const scenario = a.scenario as ScenarioName;
  const vus = int("vus", a.vus!, 1);
  const durationS = seconds("duration", a.duration!);
  const rampS = seconds("ramp", a.ramp!);
  const iterations = a.iterations !== undefined ? int("iterations", a.iterations, 1) : 0;
  if (a.url === undefined && a.spawn === undefined) throw new UsageError("give --url ws://… (a running router) or --spawn embedded|routers=N,hosts=N");
  if (a.url !== undefined && a.spawn !== undefined) throw new UsageError("--url and --spawn exclude each other");
  const spec = a.spawn !== undefined ? parseMeshSpec(a.spawn) : null;
  const meshEnv: Record<string, string> = {};
  for (const kv of a["mesh-env"]!) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`--mesh-env: expected KEY=VALUE, got "${kv}"`);
    meshEnv[m[1]!] = m[2]!;
  }
  if (Object.keys(meshEnv).length > 0 && spec === null) throw new UsageError("--mesh-env applies only with --spawn");
  if (a.roll && spec?.kind !== "distributed") throw new UsageError("--roll needs a distributed mesh it spawns: --spawn routers=N,hosts=N");
  if (a.roll && iterations > 0) throw new UsageError("--roll runs ramping VUs: leave out --iterations");
  const base = {
    deltas: int("deltas", a.deltas!, 1),
    tokensPerSecond: Number(a["tokens-per-second"]),
    turnsPerThread: int("turns-per-thread", a["turns-per-thread"]!, 1),
  };
  if (!(base.tokensPerSecond >= 0)) throw new UsageError(`--tokens-per-second: expected a number ≥ 0, got "${a["tokens-per-second"]}"`);
  const limits = { ttfdP99Ms: Number(a["ttfd-p99-ms"]), turnP95Ms: Number(a["turn-p95-ms"]) };
  const out = resolve(a.out ?? join("loadtests", "results", `${scenario}-${new Date().toISOString().replace(/[:.]/g, "-")}`));

  let mesh: SpawnedMesh | null = null;
  if (spec) {
    process.stderr.write(`starting ${a.spawn} mesh…\n`);
    mesh = await spawnMesh(spec, base.tokensPerSecond, meshEnv, { front: a.roll });
  }
  try {
    const urls = mesh?.urls ?? a.url!.split(",");
    const target: Target = { url: urls[0]!, token: a.token ?? mesh?.token ?? defaultToken(), simUrl: a["sim-url"] ?? mesh?.simUrl ?? "", ...base, ...(a.roll ? { resume: true } : {}) };
    const recorder = new Recorder();
    // The roll begins once the VUs are up and holds them until it is over; no ramp-down during it.
    let roll: LoadTestResult["roll"] = null;
    const rolled = a.roll
      ? new Promise((r) => setTimeout(r, (rampS + ROLL_AFTER_RAMP_S) * 1000))
          .then(() => mesh!.roll!((line) => (process.stderr.isTTY ? undefined : process.stderr.write(`${line}\n`))))
          .then(
            (report) => void (roll = report),
            (err: unknown) => {
              roll = { error: err instanceof Error ? err.message : String(err) };
              recorder.add("tm_errors", 1);
              recorder.error(`roll: ${roll.error}`);
            },
          )
      : undefined;
    const executor: Executor =
      iterations > 0
        ? { kind: "per-vu-iterations", vus, iterations, maxDurationS: durationS }
        : rolled !== undefined
          ? { kind: "ramping-vus", stages: [{ durationS: rampS, target: vus }, { durationS: Math.max(0, durationS - rampS), target: vus }], holdUntil: rolled }
          : { kind: "ramping-vus", stages: rampStages(vus, durationS, rampS).map((s) => ({ durationS: seconds("duration", s.duration), target: s.target })) };
    const loadStart = loadavg()[0]!;
    const startedAt = new Date().toISOString();
    const stopProgress = startProgress(recorder, scenario, Math.round(durationS), () => recorder.currentVus);
    const iteration = SCENARIOS[scenario];
    const run = await execute({
      executor,
      // VUs are spread over the routers the way a load balancer would.
      iteration: (ctx) => iteration({ ...ctx, target: { ...ctx.target, url: urls[(ctx.vu - 1) % urls.length]! } }),
      target,
      platform: nodePlatform(recorder),
      recorder,
      gracefulStopMs: GRACEFUL_STOP_MS,
    });
    stopProgress();
    const runS = recorder.elapsedMs() / 1000;
    const stats = recorder.stats(runS);
    // A roll must not end a single turn other than completed.
    const th = evaluateThresholds({ ...thresholds(limits), ...(a.roll ? { tm_turns_interrupted: ["count==0"] } : {}) }, stats);
    const span = recorder.turnSpanS();
    const bucketS = Math.max(1, Math.ceil(runS / 300));
    const { token: _token, ...shownTarget } = target;
    const result: LoadTestResult = {
      scenario,
      startedAt,
      durationS: Number(runS.toFixed(3)),
      executor: executor.kind === "ramping-vus" ? { executor: executor.kind, vus, stages: executor.stages } : { executor: executor.kind, vus, iterations },
      target: shownTarget,
      mesh: mesh?.description ?? null,
      iterations: run.iterations,
      abandoned: run.abandoned,
      metrics: stats,
      deltasPerSecond: span > 0 ? Math.round(stats.tm_deltas.count / span) : 0,
      thresholds: th,
      checks: Object.fromEntries(recorder.checks),
      errors: recorder.errorMessages,
      errorCodes: Object.fromEntries(recorder.errorCodes),
      roll,
      bucketS,
      series: recorder.series(bucketS),
      loadAverage: { start: Number(loadStart.toFixed(2)), end: Number(loadavg()[0]!.toFixed(2)) },
      ok: th.every((t) => t.ok) && run.abandoned === 0 && (roll === null || "steps" in roll),
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(out, "report.html"), htmlReport(result));
    console.log(summaryTable(result));
    console.log(`result: ${join(out, "result.json")}\nreport: ${join(out, "report.html")}`);
    return result.ok ? 0 : 99;
  } finally {
    await mesh?.stop();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const usage = err instanceof UsageError || err instanceof SpawnSpecError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  console.error(`loadtest: ${err instanceof Error ? err.message : String(err)}${usage ? " (--help for usage)" : ""}`);
  process.exitCode = usage ? 2 : 1;
}
