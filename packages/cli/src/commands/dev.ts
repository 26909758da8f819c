import { InProcessBus, tracedBus } from "@threadmesh/mesh";
import { KyselyCreditStore, KyselyThreadStore, openStore, openTenantStore } from "@threadmesh/persistence";
import { WriteBehindCreditStore } from "@threadmesh/ratelimit";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { preloadResponsesModel } from "@threadmesh/session-host";
import { createTelemetry, startTracing, tracingEnabled } from "@threadmesh/telemetry";
import type { Config } from "../config.ts";
import { openHostAdmission, type HostAdmission } from "../admission.ts";
import { composeHost, hostIdOf } from "../compose-host.ts";
import { composeRouter, resolveToken, routerIdOf } from "../compose-router.ts";
import { ensureDevApiKey } from "../dev-key.ts";
import { openEventLog } from "../event-log.ts";
import { openMeshControl } from "../mesh-control.ts";
import { startAdminService } from "../admin-service.ts";
import { serveDrainRequests } from "../host-drain-control.ts";
import { onShutdown } from "../shutdown.ts";
import { CLOSE_STEP_MS, CLOSING_RESERVE_MS, ROUTER_CLOSE_MS, SETTLE_MS } from "../shutdown-budget.ts";
import { simGenerative } from "./model-sim.ts";

/** `threadmesh dev`: router and session host in one process over the in-process bus, SQLite, simulator. */
export async function runDev(config: Config): Promise<void> {
  const ids = { routerId: routerIdOf(config), hostId: hostIdOf(config) };
  // Off unless the standard OTEL_* variables name a collector; one process, so one service instance.
  const stopTracing = await startTracing({ service: "dev", serviceInstanceId: ids.hostId });
  const telemetry = createTelemetry({ service: "dev", logLevel: config.logLevel, defaultMetrics: true });
  const store = await openStore({ url: config.databaseUrl });
  let sim: ModelSim | null = null;
  let model: { baseUrl: string; apiKey: string };
  if (config.modelBaseUrl) {
    model = { baseUrl: config.modelBaseUrl, apiKey: config.modelApiKey ?? "" };
  } else {
    sim = await startModelSim({ port: config.simPort, generative: simGenerative(config) });
    model = { baseUrl: `${sim.url}/v1`, apiKey: "sim" };
  }
  const bus = new InProcessBus();
  const eventLog = await openEventLog(config, bus);
  // One copy shared by the router and the host: they see the same hosts and owners, as over NATS.
  const mesh = await openMeshControl(config, bus, (err) => telemetry.logger.warn({ err }, "mesh control failed"));
  const tenants = await openTenantStore({ url: config.databaseUrl });
  // One process admits every turn: decisions are served from memory, written behind to the thread
  // store's own connection; burst limits count in memory.
  let admission: HostAdmission | null = null;
  let credits: WriteBehindCreditStore | null = null;
  if (config.admission) {
    if (!(store instanceof KyselyThreadStore)) throw new Error("admission needs the kysely thread store");
    credits = new WriteBehindCreditStore(new KyselyCreditStore({ db: store.database, kind: store.kind }), {
      onWriteError: (err, op) => telemetry.logger.error({ err, op }, "credit store write failed"),
    });
    admission = await openHostAdmission(config, { store: credits, tenants, logger: telemetry.logger, sharedBurst: false });
  }
  // Traced, the router's requests and the host's handling of them are publish and process spans.
  const served = tracingEnabled() ? tracedBus(bus, telemetry.tracer, "threadmesh.in_process") : bus;
  const host = await composeHost({ ...config, ...ids }, served, store, telemetry, model, mesh, eventLog, admission?.turns);
  const token = resolveToken(config);
  const devKey = await ensureDevApiKey(tenants, { tenant: config.defaultTenant, databaseUrl: config.databaseUrl });
  const router = await composeRouter({ ...config, ...ids }, served, telemetry, { devMode: true, token, tenants, readiness: () => store.ping(), eventLog, mesh, ...(admission ? { rateLimits: (tenant: string) => admission.turns.rateLimits(tenant) } : {}) });
  const { url, metricsUrl, gatewayAddress } = await router.listen();
  serveDrainRequests(bus, host, telemetry.logger);
  console.log("threadmesh dev (embedded: router + session host, in-process bus, " + config.databaseUrl + ")");
  console.log(`  listening on: ${url}`);
  if (gatewayAddress !== null) console.log(`  partner gRPC gateway on: ${gatewayAddress}`);
  console.log(`  token: ${token}`);
  console.log(`  api key (tenant ${config.defaultTenant}): ${devKey.secret} (${devKey.created ? "created now" : "created earlier"}; kept in ${devKey.keyFile}, delete the file for a new one)`);
  // Off the path to listening: the model client loads while the admin API (gRPC) starts.
  preloadResponsesModel().catch((err: unknown) => telemetry.logger.warn({ err }, "model client failed to load"));
  // Credits change through the admission's mirror, so that a top-up or grant counts at once.
  const admin = await startAdminService(config, { bus, hosts: mesh.hosts, logger: telemetry.logger, generateToken: true, migrate: false, credits: credits ?? undefined });
  console.log(`  admin API: ${admin.server.address} (gRPC${admin.server.tls ? ", TLS" : ""}), admin token: ${admin.token ?? "none (client certificates)"} — try: THREADMESH_ADMIN_TOKEN=${admin.token ?? "…"} THREADMESH_ADMIN_PORT=${admin.server.port} npm run threadmesh -- admin tenants list`);
  console.log(`  model: ${sim ? `built-in model simulator at ${sim.url} (no model provider configured; set OPENAI_BASE_URL and OPENAI_API_KEY to use one)` : model.baseUrl}`);
  if (config.console) console.log(`  console: ${url.replace("ws://", "http://")}/console (sign in with the api key)`);
  console.log(`  healthz: ${url.replace("ws://", "http://")}/healthz`);
  console.log(`  metrics on ${metricsUrl}/metrics`);
  console.log(`  try: CODEX_TOKEN=${token} npx -y @openai/codex@0.169.0 --remote ${url} --remote-auth-token-env CODEX_TOKEN`);

  onShutdown({ drainDeadlineMs: config.drainDeadlineMs, logger: telemetry.logger, flush: stopTracing }, async (clock) => {
    await clock.step("close admin API", () => admin.close(), CLOSE_STEP_MS);
    await clock.step("drain router", () => router.drain({ deadlineMs: clock.untilDeadline() }));
    // The router has closed every connection: it stops while the host lets its turns finish.
    await Promise.all([
      clock.step("close router", () => router.close(), ROUTER_CLOSE_MS),
      clock.step("drain session host", () => host.drain({ deadlineMs: clock.untilDeadline(), settleMs: SETTLE_MS })),
    ]);
    await clock.step("close session host", () => host.close({ withinMs: clock.remaining() - CLOSING_RESERVE_MS }));
    await Promise.all([clock.step("close mesh control", () => mesh.close(), CLOSE_STEP_MS), clock.step("close event log", () => eventLog.close(), CLOSE_STEP_MS)]);
    await clock.step("close bus", () => bus.close(), CLOSE_STEP_MS);
    await clock.step("close admission", async () => {
      await admission?.close();
      await credits?.flush();
    }, CLOSE_STEP_MS);
    await Promise.all([clock.step("close store", () => store.close(), CLOSE_STEP_MS), clock.step("close tenant store", () => tenants.close(), CLOSE_STEP_MS), clock.step("close model simulator", async () => sim?.close(), CLOSE_STEP_MS)]);
  });
}
