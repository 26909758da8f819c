import { DEFAULT_LIMITS, resolveLimits, type TenantLimits } from "@threadmesh/protocol";
import type { Config } from "./config.ts";

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof TenantLimits)[];

/** The quotas and input limits every tenant gets, from the configuration (one value; per-plan values come later). */
export function tenantLimitsOf(config: Config): Readonly<TenantLimits> {
  return resolveLimits(Object.fromEntries(LIMIT_KEYS.map((k) => [k, config[k]])));
}
