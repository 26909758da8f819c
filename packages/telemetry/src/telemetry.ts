import { trace, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { createLogger, silentLogger } from "./logger.ts";
import { Metrics } from "./metrics.ts";

/** What every service receives: a logger, a metrics registry and a tracer. Never throws. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export interface TelemetryOptions {
  service: string;
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  defaultMetrics?: boolean;
}

/**
 * Telemetry for a process. The tracer comes from the global OpenTelemetry API, which is a no-op until
 * a composition root registers an SDK.
 */
export function createTelemetry(opts: TelemetryOptions): Telemetry {
  return {
    logger: createLogger({ service: opts.service, level: opts.logLevel ?? "info" }),
    metrics: new Metrics({ defaultMetrics: opts.defaultMetrics ?? false }),
    tracer: trace.getTracer(`threadmesh-${opts.service}`),
  };
}

/** Silent logger, private registry, no-op tracer: the default for libraries and tests. */
export function noopTelemetry(): Telemetry {
  return { logger: silentLogger(), metrics: new Metrics(), tracer: trace.getTracer("threadmesh-noop") };
}
