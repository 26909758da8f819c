/**
 * Runs a scenario's iterations the way k6's executors do: `ramping-vus` (VUs follow linear stages, each
 * loops iterations; a VU above the current target finishes its iteration and stops) or
 * `per-vu-iterations` (every VU starts at once and runs its iterations). At the end of the run, VUs get
 * `gracefulStopMs` to finish the iteration they are in; what is still running then is abandoned.
 */
import type { IterationContext, Platform, Target } from "../scenarios/platform.ts";
import type { Recorder } from "./recorder.ts";

export type Executor =
  | {
      kind: "ramping-vus";
      stages: Array<{ durationS: number; target: number }>;
      /** The last stage's VUs are held past the stages until this settles (a rolling restart underway). */
      holdUntil?: Promise<unknown>;
    }
  | { kind: "per-vu-iterations"; vus: number; iterations: number; maxDurationS: number };

export interface RunOptions {
  executor: Executor;
  iteration: (ctx: IterationContext) => Promise<void>;
  target: Target;
  platform: Platform;
  recorder: Recorder;
  /** Time VUs get to finish their iteration after the run's end, ms. */
  gracefulStopMs: number;
}

/** How often the ramping executor re-reads its target, ms. */
const TICK_MS = 100;

/** VUs the stages ask for `elapsedS` into the run (linear between stage targets, from 0). */
export function targetVus(stages: Array<{ durationS: number; target: number }>, elapsedS: number): number {
  let from = 0;
  let t = elapsedS;
  for (const s of stages) {
    if (t <= s.durationS) return Math.round(s.durationS === 0 ? s.target : from + ((s.target - from) * t) / s.durationS);
    t -= s.durationS;
    from = s.target;
  }
  return from;
}

export async function execute(opts: RunOptions): Promise<{ iterations: number; abandoned: number }> {
  const { executor, recorder } = opts;
  let iterations = 0;
  let running = 0;
  let stopped = false;
  const runIteration = async (vu: number, iteration: number): Promise<void> => {
    running++;
    try {
      await opts.iteration({ vu, iteration, target: opts.target, platform: opts.platform });
    } catch (err) {
      recorder.add("tm_errors", 1);
      recorder.failure(err);
      recorder.error(`vu ${vu}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      running--;
      iterations++;
    }
  };

  let allDone: Promise<unknown>;
  if (executor.kind === "per-vu-iterations") {
    recorder.vus(executor.vus);
    allDone = Promise.all(
      Array.from({ length: executor.vus }, async (_, i) => {
        for (let k = 0; k < executor.iterations && !stopped; k++) await runIteration(i + 1, k);
      }),
    ).then(() => recorder.vus(0));
    const limit = new Promise((r) => setTimeout(r, executor.maxDurationS * 1000).unref());
    await Promise.race([allDone, limit]);
  } else {
    const totalS = executor.stages.reduce((a, s) => a + s.durationS, 0);
    const vus: Array<Promise<void>> = [];
    let target = 0;
    const loop = async (vu: number): Promise<void> => {
      for (let k = 0; !stopped && vu <= target; k++) await runIteration(vu, k);
    };
    const active = new Set<number>();
    let held = executor.holdUntil === undefined;
    void executor.holdUntil?.finally(() => (held = true));
    while (recorder.elapsedMs() / 1000 < totalS || !held) {
      target = targetVus(executor.stages, recorder.elapsedMs() / 1000);
      for (let vu = 1; vu <= target; vu++) {
        if (active.has(vu)) continue;
        active.add(vu);
        vus.push(loop(vu).finally(() => active.delete(vu)));
      }
      recorder.vus(active.size);
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    allDone = Promise.all(vus);
  }
  stopped = true;
  const grace = new Promise((r) => setTimeout(r, opts.gracefulStopMs).unref());
  await Promise.race([allDone, grace]);
  recorder.vus(0);
  return { iterations, abandoned: running };
}
