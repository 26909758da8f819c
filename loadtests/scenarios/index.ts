/** The scenario table: name → iteration function. k6 entry scripts and the Node runner both read it. */
import { approvals } from "./approvals.ts";
import type { IterationContext } from "./platform.ts";
import { reconnect } from "./reconnect.ts";
import { steerInterrupt } from "./steer-interrupt.ts";
import { turns } from "./turns.ts";

export const SCENARIOS = {
  turns,
  approvals,
  "steer-interrupt": steerInterrupt,
  reconnect,
} as const satisfies Record<string, (ctx: IterationContext) => Promise<void>>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/** Defaults of {@link Target} fields a run does not set. */
export const TARGET_DEFAULTS = { deltas: 200, tokensPerSecond: 0, turnsPerThread: 1 } as const;

/** k6 `stages` of a ramping-VU run: up to `vus` over `rampS`, hold, down over `rampS`. */
export function rampStages(vus: number, durationS: number, rampS: number): Array<{ duration: string; target: number }> {
  const ramp = Math.min(rampS, Math.floor(durationS / 3));
  if (ramp <= 0) return [{ duration: `${durationS}s`, target: vus }];
  return [
    { duration: `${ramp}s`, target: vus },
    { duration: `${durationS - 2 * ramp}s`, target: vus },
    { duration: `${ramp}s`, target: 0 },
  ];
}
