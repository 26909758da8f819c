import { tracedBus } from "@threadmesh/mesh";
import { NatsBus } from "@threadmesh/mesh/nats";
import { createTelemetry, startTracing, tracingEnabled } from "@threadmesh/telemetry";
import { openCreditStore, openTenantStore } from "@threadmesh/persistence";
import type { Config } from "../config.ts";
import { rateLimitsReader } from "../rate-limits-reader.ts";
import { composeRouter, routerIdOf } from "../compose-router.ts";
import { openEventLog } from "../event-log.ts";
import { openMeshControl } from "../mesh-control.ts";
import { onShutdown } from "../shutdown.ts";
import { CLOSE_STEP_MS, ROUTER_CLOSE_MS } from "../shutdown-budget.ts";

/** `threadmesh router`: a stateless WebSocket router on NATS. */
export async function runRouter(config: Config): Promise<void> {
  const routerId = routerIdOf(config);
  // Off unless the standard OTEL_* variables name a collector.
  const stopTracing = await startTracing({ service: "router", serviceInstanceId: routerId });
  const telemetry = createTelemetry({ service: "router", logLevel: config.logLevel, defaultMetrics: true });
  const bus = await NatsBus.connect({ servers: config.natsUrl.split(","), name: "threadmesh-router" });
  const eventLog = await openEventLog(config, bus);
  const mesh = await openMeshControl(config, bus, (err) => telemetry.logger.warn({ err }, "mesh control watch failed"));
  // A router holds no durable state and opens no thread store. It reads the database for credentials
  // (API keys, tenant status; cached, revocations arrive over the bus) and for account/rateLimits/read,
  // but its readiness is the bus alone (running, not draining, NATS connected): a database outage must
  // not take every router out of rotation while capability tokens, JWTs and cached keys still work.
  const tenants = await openTenantStore({ url: config.databaseUrl, migrate: false, poolSize: 2 });
  // account/rateLimits/read answers from the credit store the hosts admit against.
  const credits = config.admission ? await openCreditStore({ url: config.databaseUrl, migrate: false, poolSize: 2 }) : null;
  // Without THREADMESH_TOKEN no capability token is accepted: API keys and JWTs still are.
  // Traced processes see their requests to hosts as publish spans; untraced ones keep the bare bus.
  const router = await composeRouter({ ...config, routerId }, tracingEnabled() ? tracedBus(bus, telemetry.tracer, "nats") : bus, telemetry, {
    devMode: config.devMode,
    token: config.token,
    tenants,
    eventLog,
    mesh,
    ...(credits ? { rateLimits: rateLimitsReader(credits, tenants) } : {}),
  });
  const { url, metricsUrl, gatewayAddress } = await router.listen();
  console.log(`threadmesh router`);
  console.log(`  listening on: ${url}`);
  if (gatewayAddress !== null) console.log(`  partner gRPC gateway on: ${gatewayAddress}`);
  console.log(`  metrics on ${metricsUrl}/metrics`);
  onShutdown({ drainDeadlineMs: config.drainDeadlineMs, logger: telemetry.logger, flush: stopTracing }, async (clock) => {
    await clock.step("drain router", () => router.drain({ deadlineMs: clock.untilDeadline() }));
    await clock.step("close router", () => router.close(), ROUTER_CLOSE_MS);
    await Promise.all([clock.step("close mesh control", () => mesh.close(), CLOSE_STEP_MS), clock.step("close event log", () => eventLog.close(), CLOSE_STEP_MS)]);
    await clock.step("close bus", () => bus.close(), CLOSE_STEP_MS);
    await Promise.all([clock.step("close tenant store", () => tenants.close(), CLOSE_STEP_MS), clock.step("close credit store", async () => credits?.close(), CLOSE_STEP_MS)]);
  });
}
