import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { bearerTokenMatches, serverCredentials, type AdminAuthOptions } from "./admin-auth.ts";
import { adminServices, qualifiedName, ADMIN_SERVICES, type AdminServiceName } from "./admin-proto.ts";
import type { AdminDeps } from "./services/admin-deps.ts";
import { apiKeyService } from "./services/api-key-service.ts";
import { creditService } from "./services/credit-service.ts";
import { hostService } from "./services/host-service.ts";
import { planService } from "./services/plan-service.ts";
import { tenantService } from "./services/tenant-service.ts";
import type { HandlerContext } from "./unary.ts";

export interface AdminServerOptions extends AdminAuthOptions {
  host: string;
  /** 0 = ephemeral. */
  port: number;
  deps: AdminDeps;
  logger: { error(obj: object, msg: string): void };
}

export interface AdminServer {
  /** `host:port` actually bound. */
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  /** Marks every service NOT_SERVING, then stops: calls in flight get `graceMs` to finish. */
  close(graceMs?: number): Promise<void>;
}

/** Thrown at start-up for a configuration the server cannot run with. */
export class AdminConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminConfigError";
  }
}

/**
 * Serves the admin API (every service of `proto/threadmesh/admin/v1/admin.proto`) and the standard
 * `grpc.health.v1.Health` service. Callers need the admin token (`authorization: Bearer …`) when one
 * is set, and a client certificate signed by the client CA when one is set; at least one of the two
 * must be. The health service answers anyone (probes carry no credentials).
 */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const mtls = Boolean(opts.tls?.clientCa);
  if (opts.token === null && !mtls) throw new AdminConfigError("the admin API needs an admin token (THREADMESH_ADMIN_TOKEN) or client certificates (THREADMESH_ADMIN_TLS_CERT, _KEY and _CLIENT_CA)");
  const token = opts.token;
  const ctx: HandlerContext = {
    authorized: (call) => token === null || bearerTokenMatches(call.metadata, token),
    onInternalError: (err, method) => opts.logger.error({ err, method }, "admin call failed"),
  };
  const impls: Record<AdminServiceName, grpc.UntypedServiceImplementation> = {
    TenantService: tenantService(ctx, opts.deps),
    ApiKeyService: apiKeyService(ctx, opts.deps),
    PlanService: planService(ctx, opts.deps),
    CreditService: creditService(ctx, opts.deps),
    HostService: hostService(ctx, opts.deps),
  };
  const server = new grpc.Server();
  const services = adminServices();
  for (const name of ADMIN_SERVICES) server.addService(services[name].service, impls[name]);
  const serving = Object.fromEntries(["", ...ADMIN_SERVICES.map(qualifiedName)].map((n) => [n, "SERVING" as const]));
  const health = new HealthImplementation(serving);
  health.addToServer(server);

  const credentials = serverCredentials(opts.tls);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${opts.port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    address: `${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    tls: Boolean(opts.tls),
    async close(graceMs = 1_000) {
      for (const name of Object.keys(serving)) health.setStatus(name, "NOT_SERVING");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
