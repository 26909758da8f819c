import { resolveLimits, type TenantLimits } from "@threadmesh/protocol";
import type { Config } from "./config.ts";

/** The quotas and input limits every tenant gets, from the configuration (one value; per-plan values come later). */
export function tenantLimitsOf(config: Config): Readonly<TenantLimits> {
  return resolveLimits({
    maxJsonDepth: config.maxJsonDepth,
    maxRequestIdChars: config.maxRequestIdChars,
    maxInstructionsChars: config.maxInstructionsChars,
    maxInputChars: config.maxInputChars,
    maxInputItems: config.maxInputItems,
    maxInputImages: config.maxInputImages,
    maxInputBytes: config.maxInputBytes,
    maxThreadNameChars: config.maxThreadNameChars,
    maxIdChars: config.maxIdChars,
    maxCursorChars: config.maxCursorChars,
    maxPageSize: config.maxPageSize,
    maxThreadsPerConnection: config.maxThreadsPerConnection,
    maxThreadsPerTenant: config.maxThreadsPerTenant,
    requestQueueTimeoutMs: config.requestQueueTimeoutMs,
  });
}
