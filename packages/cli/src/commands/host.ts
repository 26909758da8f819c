import { NatsBus } from "@threadmesh/mesh";
import { openStore } from "@threadmesh/persistence";
import { createTelemetry } from "@threadmesh/telemetry";
import type { Config } from "../config.ts";
import { composeHost } from "../compose.ts";
import { onShutdown } from "../shutdown.ts";

/** `threadmesh host`: a session host on NATS and the store. */
export async function runHost(config: Config): Promise<void> {
  if (!config.modelBaseUrl) throw new Error("threadmesh host: set OPENAI_BASE_URL (a Responses API endpoint, or a `threadmesh model-sim` URL + /v1)");
  const telemetry = createTelemetry({ service: "host", logLevel: config.logLevel, defaultMetrics: true });
  const store = await openStore({ url: config.databaseUrl });
  const bus = await NatsBus.connect({ servers: config.natsUrl.split(","), name: "threadmesh-host" });
  const host = await composeHost(config, bus, store, telemetry, { baseUrl: config.modelBaseUrl, apiKey: config.modelApiKey ?? "" });
  console.log(`session host ${host.hostId} ready`);
  onShutdown(async () => {
    await host.drain({ deadlineMs: 10_000 });
    await host.close();
    await bus.close();
    await store.close();
  });
}
