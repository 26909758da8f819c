import { createRequire } from "node:module";
import type { NodeSDK } from "@opentelemetry/sdk-node";

export interface TracingOptions {
  /** `router`, `host` or `dev`; the resource's `service.name` is `threadmesh-<service>` unless OTEL_SERVICE_NAME says otherwise. */
  service: string;
  /** Unique per process (`service.instance.id`), e.g. the router or host id. */
  serviceInstanceId: string;
}

/** Flushes buffered spans and stops exporting; resolves even when the collector is unreachable. */
export type StopTracing = () => Promise<void>;

/** Longest a shutdown waits for buffered spans to reach the collector. */
const FLUSH_TIMEOUT_MS = 5_000;

/**
 * Whether the standard OTEL_* variables ask for trace export: an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), OTEL_TRACES_EXPORTER is not
 * `none` and OTEL_SDK_DISABLED is not `true`. Tracing is off unless an operator points it somewhere.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  // As in the SDK: `none` alone turns traces off; `none` next to another exporter does not.
  if (exporters.length === 1 && exporters[0] === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * Registers the OpenTelemetry SDK for traces only, when {@link tracingEnabled} for `process.env`:
 * exporter, protocol, batching and sampling come from the standard OTEL_* variables (the SDK reads
 * them), context travels as W3C trace context. Beside Threadmesh's own spans, PostgreSQL queries get
 * spans from the official `pg` instrumentation (only inside a traced operation: background queries such as
 * lease renewals start no traces of their own). When tracing is off nothing is loaded and the global API
 * stays a no-op.
 */
export async function startTracing(opts: TracingOptions): Promise<StopTracing> {
  if (!tracingEnabled(process.env)) return async () => {};
  // Loaded on demand: the SDK and its exporters are a large import that untraced processes skip.
  const [{ NodeSDK: Sdk }, { W3CTraceContextPropagator }, { defaultResource, resourceFromAttributes }, { ATTR_SERVICE_NAME }, { PgInstrumentation }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
    import("@opentelemetry/instrumentation-pg"),
  ]);
  const sdk: NodeSDK = new Sdk({
    // Detected resources (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, host, process) are merged over these.
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: `threadmesh-${opts.service}`, "service.instance.id": opts.serviceInstanceId }),
    ),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
    // Traces only: without these the SDK would also start OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  patchLoadedModules(PG_MODULES);
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      // An unreachable collector must not hold the process past its shutdown.
      const timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
      timer.unref();
      sdk.shutdown().then(
        () => (clearTimeout(timer), resolve()),
        () => (clearTimeout(timer), resolve()),
      );
    });
    return stopping;
  };
}

/** The modules the `pg` instrumentation patches: `pg` (client queries) and `pg-pool` (pool checkouts). */
const PG_MODULES = ["pg", "pg-pool"];

/**
 * The instrumentations hook `require`; the store imported `pg` as an ES module before tracing started,
 * so no hook saw it. Requiring each module once more lets the hook patch it: the patch changes the
 * classes' prototypes, which the store's import shares. A module that is not installed is skipped.
 */
function patchLoadedModules(names: readonly string[]): void {
  const require = createRequire(import.meta.url);
  for (const name of names) {
    try {
      require(name);
    } catch {
      // Not installed here: nothing of it to trace.
    }
  }
}
