export { createTelemetry, noopTelemetry } from "./telemetry.ts";
export { Metrics } from "./metrics.ts";
export { createLogger, silentLogger } from "./logger.ts";

export type { Telemetry, TelemetryOptions } from "./telemetry.ts";
export type { Logger } from "./logger.ts";
