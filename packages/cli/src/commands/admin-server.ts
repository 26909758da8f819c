import { NatsBus } from "@threadmesh/mesh/nats";
import { createTelemetry } from "@threadmesh/telemetry";
import type { Config } from "../config.ts";
import { startAdminService } from "../admin-service.ts";
import { openMeshControl } from "../mesh-control.ts";
import { onShutdown } from "../shutdown.ts";
import { CLOSE_STEP_MS } from "../shutdown-budget.ts";

/**
 * `threadmesh admin-server`: the admin API of the distributed topology, a process of its own next to
 * the routers and hosts. It holds the store (tenants, keys, plans, credits) and a NATS connection: it
 * tells every router when a key is revoked or a tenant suspended, watches the live hosts and asks one
 * to drain. `threadmesh dev` serves the same API in its own process instead.
 */
export async function runAdminServer(config: Config): Promise<void> {
  const telemetry = createTelemetry({ service: "admin", logLevel: config.logLevel });
  const bus = await NatsBus.connect({ servers: config.natsUrl.split(","), name: "threadmesh-admin" });
  const mesh = await openMeshControl(config, bus, (err) => telemetry.logger.warn({ err }, "mesh control watch failed"));
  const admin = await startAdminService(config, { bus, hosts: mesh.hosts, logger: telemetry.logger, generateToken: false, migrate: true });
  console.log("threadmesh admin-server");
  console.log(`  admin API on ${admin.server.address} (gRPC${admin.server.tls ? ", TLS" : ", plaintext"}${config.adminTlsClientCa ? ", client certificates required" : ""})`);
  onShutdown({ drainDeadlineMs: 0, logger: telemetry.logger }, async (clock) => {
    await clock.step("close admin API", () => admin.close(), CLOSE_STEP_MS);
    await clock.step("close mesh control", () => mesh.close(), CLOSE_STEP_MS);
    await clock.step("close bus", () => bus.close(), CLOSE_STEP_MS);
  });
}
