import { randomBytes } from "node:crypto";
import type { AdminServer } from "@threadmesh/admin";
import type { Bus, HostRegistry } from "@threadmesh/mesh";
import { openAdminStores, type AdminStores } from "@threadmesh/persistence";
import type { CreditStore } from "@threadmesh/ratelimit";
import type { Logger } from "@threadmesh/telemetry";
import { ConfigError, type Config } from "./config.ts";

/** The admin API of a process: its stores, its gRPC server and the token callers need. */
export interface AdminService {
  server: AdminServer;
  /** The admin token in force (generated when THREADMESH_ADMIN_TOKEN is unset and `generateToken`). */
  token: string | null;
  close(): Promise<void>;
}

/**
 * Opens the tenant and credit stores (their own pool) and serves the admin API on
 * THREADMESH_ADMIN_HOST:THREADMESH_ADMIN_PORT; credential events and drain requests go out on `bus`.
 */
export async function startAdminService(
  config: Config,
  opts: {
    bus: Bus;
    hosts: HostRegistry;
    logger: Logger;
    generateToken: boolean;
    migrate: boolean;
    /** The credit store this process admits turns from, when it keeps state in memory (dev's write-behind mirror): top-ups and grants must go through it. */
    credits?: CreditStore | undefined;
  },
): Promise<AdminService> {
  // gRPC and the admin services load here, not with the command: dev starts them after it listens.
  const { AdminConfigError, startAdminServer } = await import("@threadmesh/admin");
  const token = config.adminToken ?? (opts.generateToken ? randomBytes(24).toString("base64url") : null);
  const stores: AdminStores = await openAdminStores({ url: config.databaseUrl, migrate: opts.migrate, poolSize: 4 });
  try {
    const tls = config.adminTlsCert && config.adminTlsKey ? { cert: config.adminTlsCert, key: config.adminTlsKey, clientCa: config.adminTlsClientCa } : null;
    const server = await startAdminServer({
      host: config.adminHost,
      port: config.adminPort,
      token,
      tls,
      deps: { tenants: stores.tenants, credits: opts.credits ?? stores.credits, ledger: stores.ledger, bus: opts.bus, hosts: opts.hosts },
      logger: opts.logger,
    }).catch((err: unknown) => {
      if (err instanceof AdminConfigError) throw new ConfigError([err.message]);
      throw new ConfigError([`THREADMESH_ADMIN_HOST / THREADMESH_ADMIN_PORT: the admin API cannot listen on ${config.adminHost}:${config.adminPort}: ${(err as Error).message}`]);
    });
    return {
      server,
      token,
      async close() {
        await server.close();
        await stores.close();
      },
    };
  } catch (err) {
    await stores.close();
    throw err;
  }
}
