import { NatsBus } from "@threadmesh/mesh";
import { createTelemetry } from "@threadmesh/telemetry";
import { openStore } from "@threadmesh/persistence";
import type { Config } from "../config.ts";
import { composeRouter, resolveToken } from "../compose.ts";
import { onShutdown } from "../shutdown.ts";

/** `threadmesh router`: a stateless WebSocket router on NATS. */
export async function runRouter(config: Config): Promise<void> {
  const telemetry = createTelemetry({ service: "router", logLevel: config.logLevel, defaultMetrics: true });
  if (!config.token && !config.devMode) throw new Error("threadmesh router: set THREADMESH_TOKEN (or --dev-mode for loopback-only unauthenticated use)");
  const bus = await NatsBus.connect({ servers: config.natsUrl.split(","), name: "threadmesh-router" });
  const store = await openStore({ url: config.databaseUrl, migrate: false });
  const token = resolveToken(config);
  const router = await composeRouter(config, bus, telemetry, { devMode: config.devMode, token, readiness: () => store.ping() });
  const { url } = await router.listen();
  console.log(`threadmesh router`);
  console.log(`  listening on: ${url}`);
  onShutdown(async () => {
    await router.drain({ deadlineMs: 5000 });
    await router.close();
    await bus.close();
    await store.close();
  });
}
