import { tracedBus } from "@threadmesh/mesh";
import { NatsBus } from "@threadmesh/mesh/nats";
import { openCreditStore, openStore, openTenantStore, type KyselyCreditStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { createTelemetry, startMetricsServer, startTracing, tracingEnabled, type MetricsReadiness } from "@threadmesh/telemetry";
import { preloadResponsesModel, type SessionHost } from "@threadmesh/session-host";
import { ConfigError, type Config } from "../config.ts";
import { openHostAdmission, type HostAdmission } from "../admission.ts";
import { composeHost, hostIdOf } from "../compose-host.ts";
import { openEventLog } from "../event-log.ts";
import { openMeshControl } from "../mesh-control.ts";
import { serveDrainRequests } from "../host-drain-control.ts";
import { onShutdown } from "../shutdown.ts";
import { CLOSE_STEP_MS, CLOSING_RESERVE_MS, SETTLE_MS } from "../shutdown-budget.ts";

/** `threadmesh host`: a session host on NATS and the store. */
export async function runHost(config: Config): Promise<void> {
  if (!config.modelBaseUrl) throw new ConfigError(["OPENAI_BASE_URL: set it (a Responses API endpoint, or a `threadmesh model-sim` URL + /v1)"]);
  const hostId = hostIdOf(config);
  // Before anything can receive a command: off unless the standard OTEL_* variables name a collector.
  const stopTracing = await startTracing({ service: "host", serviceInstanceId: hostId });
  const telemetry = createTelemetry({ service: "host", logLevel: config.logLevel, defaultMetrics: true });
  let host: SessionHost | null = null;
  const store = await openStore({ url: config.databaseUrl });
  // Admission: credits in the shared database, burst limits in Redis when configured.
  let credits: { store: KyselyCreditStore; tenants: KyselyTenantStore; admission: HostAdmission } | null = null;
  if (config.admission) {
    const creditStore = await openCreditStore({ url: config.databaseUrl, migrate: false });
    const tenants = await openTenantStore({ url: config.databaseUrl, migrate: false, poolSize: 2 });
    try {
      credits = { store: creditStore, tenants, admission: await openHostAdmission(config, { store: creditStore, tenants, logger: telemetry.logger, sharedBurst: true }) };
    } catch (err) {
      await Promise.all([creditStore.close(), tenants.close(), store.close()]);
      throw err;
    }
  }
  // Bound before joining the mesh: a taken port stops the process before it takes any thread.
  const metricsServer = await startMetricsServer({
    metrics: telemetry.metrics,
    host: config.metricsHost,
    port: config.metricsPort,
    readiness: async (): Promise<MetricsReadiness> => {
      if (host?.state !== "running") return { ready: false, reason: host ? host.state : "starting" };
      return (await store.ping()) ? { ready: true } : { ready: false, reason: "store unreachable" };
    },
  });
  console.log(`metrics on ${metricsServer.url}/metrics`);
  const bus = await NatsBus.connect({ servers: config.natsUrl.split(","), name: "threadmesh-host" });
  // The stream must exist before this host publishes its first event.
  const eventLog = await openEventLog(config, bus);
  const mesh = await openMeshControl(config, bus, (err) => telemetry.logger.warn({ err }, "mesh control watch failed"));
  // Traced processes handle commands under process spans; untraced ones keep the bare bus.
  const running = await composeHost({ ...config, hostId }, tracingEnabled() ? tracedBus(bus, telemetry.tracer, "nats") : bus, store, telemetry, { baseUrl: config.modelBaseUrl, apiKey: config.modelApiKey ?? "" }, mesh, eventLog, credits?.admission.turns);
  host = running;
  serveDrainRequests(bus, running, telemetry.logger);
  console.log(`session host ${running.hostId} ready`);
  // Loaded now rather than at the first turn: the model client is not needed to join the mesh.
  preloadResponsesModel().catch((err: unknown) => telemetry.logger.warn({ err }, "model client failed to load"));
  onShutdown({ drainDeadlineMs: config.drainDeadlineMs, logger: telemetry.logger, flush: stopTracing }, async (clock) => {
    await clock.step("drain session host", () => running.drain({ deadlineMs: clock.untilDeadline(), settleMs: SETTLE_MS }));
    await clock.step("close session host", () => running.close({ withinMs: clock.remaining() - CLOSING_RESERVE_MS }));
    await Promise.all([clock.step("close mesh control", () => mesh.close(), CLOSE_STEP_MS), clock.step("close event log", () => eventLog.close(), CLOSE_STEP_MS)]);
    await clock.step("close bus", () => bus.close(), CLOSE_STEP_MS);
    await clock.step("close admission", async () => {
      await credits?.admission.close();
      await Promise.all([credits?.store.close(), credits?.tenants.close()]);
    }, CLOSE_STEP_MS);
    await Promise.all([clock.step("close store", () => store.close(), CLOSE_STEP_MS), clock.step("close metrics server", () => metricsServer.close(), CLOSE_STEP_MS)]);
  });
}
