import { randomBytes, randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Bus, EventLog } from "@threadmesh/mesh";
import { Router, type ApiKeyLookup, type JwtConfig, type RateLimitsReader, type TenantLookup } from "@threadmesh/router";
import type { Telemetry } from "@threadmesh/telemetry";
import type { Config } from "./config.ts";
import type { MeshControl } from "./mesh-control.ts";
import { tenantLimitsOf } from "./tenant-limits.ts";

/** Builds a router from the validated configuration. */
export async function composeRouter(
  config: Config,
  bus: Bus,
  telemetry: Telemetry,
  opts: { devMode: boolean; token: string | null; tenants?: ApiKeyLookup & TenantLookup; readiness?: () => Promise<boolean>; eventLog?: EventLog; mesh?: MeshControl; rateLimits?: RateLimitsReader },
): Promise<Router> {
  const router = await Router.create({
    bus,
    telemetry,
    eventLog: opts.eventLog,
    mesh: opts.mesh,
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.tenants ? { tenants: opts.tenants } : {}),
    routerId: routerIdOf(config),
    config: {
      host: config.host,
      port: config.port,
      gatewayPort: config.gatewayPort,
      devMode: opts.devMode,
      defaultTenant: config.defaultTenant,
      tokens: opts.token === null ? [] : [{ token: opts.token, tenant: config.defaultTenant }],
      ...jwtConfigOf(config),
      credentialCacheMs: config.credentialCacheMs,
      authFailuresPerMinute: config.authFailuresPerMinute,
      allowedOrigins: [...config.allowedOrigins],
      console: config.console,
      ...(config.consoleTicketSecret === null ? {} : { consoleTicketSecret: config.consoleTicketSecret }),
      maxFrameBytes: config.maxFrameBytes,
      hostRequestTimeoutMs: config.hostRequestTimeoutMs,
      turnStartBacklogMs: config.turnStartBacklogMs,
      outboundMaxBytes: config.outboundMaxBytes,
      outboundGraceMs: config.outboundGraceMs,
      outboundTotalMaxBytes: config.outboundTotalMaxBytes,
      metricsHost: config.metricsHost,
      metricsPort: config.metricsPort,
      limits: tenantLimitsOf(config),
      codexHome: resolve("./data"),
      models: [{ id: config.model, displayName: config.model, description: "Default model", isDefault: true }],
      defaults: { model: config.model, approvalPolicy: config.approvalPolicy, sandbox: config.sandbox },
      shedding: config.shedding,
      joinDeltas: config.joinDeltas,
    },
  });
  if (opts.readiness) router.setReadinessCheck(opts.readiness);
  return router;
}

/** The router's JWT settings; none when neither a secret nor a JWKS URL is configured. */
function jwtConfigOf(config: Config): { jwt?: JwtConfig } {
  if (config.jwtSecret === null && config.jwksUrl === null) return {};
  return {
    jwt: {
      ...(config.jwtSecret === null ? {} : { secret: config.jwtSecret }),
      ...(config.jwksUrl === null ? {} : { jwksUrl: config.jwksUrl }),
      ...(config.jwtIssuer === null ? {} : { issuer: config.jwtIssuer }),
      ...(config.jwtAudience === null ? {} : { audience: config.jwtAudience }),
      clockSkewSeconds: config.jwtClockSkewS,
      tenantClaim: config.jwtTenantClaim,
      userClaim: config.jwtUserClaim,
    },
  };
}

/** The configured router id, else a random one; resolve it once and pass it on in the config. */
export function routerIdOf(config: Config): string {
  return config.routerId ?? `router-${randomUUID().slice(0, 8)}`;
}

/** The token clients must present; dev mode generates one when none is configured. */
export function resolveToken(config: Config): string {
  return config.token ?? randomBytes(18).toString("base64url");
}
