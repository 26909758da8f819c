import { startModelSim } from "@threadmesh/model-sim";
import { createTelemetry } from "@threadmesh/telemetry";
import type { Config } from "../config.ts";
import { onShutdown } from "../shutdown.ts";

export async function runModelSim(config: Config): Promise<void> {
  const sim = await startModelSim({ port: config.simPort, host: config.simHost, generative: simGenerative(config) });
  console.log(`model-sim listening on ${sim.url}`);
  const { logger } = createTelemetry({ service: "model-sim", logLevel: config.logLevel });
  onShutdown({ drainDeadlineMs: 0, logger }, (clock) => clock.step("close model simulator", () => sim.close()));
}

export function simGenerative(config: Config) {
  return {
    tokensPerSecond: config.simTokensPerSecond,
    ttftMs: config.simTtftMs,
    toolCallProbability: config.simToolCallProbability,
  };
}
