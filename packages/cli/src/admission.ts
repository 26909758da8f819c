import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { DEFAULT_PLAN, type TenantStore } from "@threadmesh/persistence";
import { Admission, BurstLimiter, PriceTable, type CreditStore, type ModelPrice } from "@threadmesh/ratelimit";
import { TurnAdmission, type PlanLookup } from "@threadmesh/session-host";
import type { Logger } from "@threadmesh/telemetry";
import type { RateLimitSnapshot } from "@threadmesh/protocol";
import type { Config } from "./config.ts";
import { ConfigError } from "./config.ts";

/**
 * Built-in prices (micro-credits per million tokens, a credit being a US dollar): the default model's
 * list prices, for the model simulator's names too, and for any other model (`*`).
 */
const CODEX_PRICE: ModelPrice = { inputPerMillion: 1_250_000, cachedInputPerMillion: 125_000, outputPerMillion: 10_000_000 };
export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  "gpt-5.1-codex": CODEX_PRICE,
  "sim-model": CODEX_PRICE,
  "*": CODEX_PRICE,
});

/** The price table of THREADMESH_PRICE_TABLE, else the built-in one; a bad file is a configuration error. */
export function loadPriceTable(path: string | null): PriceTable {
  if (path === null) return new PriceTable(BUILTIN_PRICES);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([`THREADMESH_PRICE_TABLE: cannot read ${path}: ${(err as Error).message}`]);
  }
  try {
    return new PriceTable(JSON.parse(text) as Record<string, ModelPrice>);
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : ((err as { issues?: Array<{ path: unknown[]; message: string }> }).issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") || String(err);
    throw new ConfigError([`THREADMESH_PRICE_TABLE: ${path} is not a price table: ${detail}`]);
  }
}

/** The plan of each tenant from the tenant store, read at most every `cacheMs`; `default` for a tenant it does not know. */
export function tenantPlans(tenants: Pick<TenantStore, "getTenant">, cacheMs = 5_000): PlanLookup {
  const cache = new Map<string, { plan: string; atMs: number }>();
  return async (tenant) => {
    const now = Date.now();
    const hit = cache.get(tenant);
    if (hit !== undefined && now - hit.atMs < cacheMs) return hit.plan;
    const plan = (await tenants.getTenant(tenant))?.plan ?? DEFAULT_PLAN;
    cache.set(tenant, { plan, atMs: now });
    return plan;
  };
}

/**
 * Connects to THREADMESH_REDIS_URL for the burst limits shared by every host: commands fail at once
 * while Redis is down (no offline queue), so the in-memory insurance limiter answers instead. An
 * unreachable Redis at start-up is a configuration error.
 */
export async function connectBurstRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  let lastError: unknown = null;
  redis.on("error", (err: unknown) => {
    lastError = err;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const cause = lastError instanceof Error ? lastError : err;
    throw new ConfigError([`THREADMESH_REDIS_URL: cannot reach Redis at ${url}: ${cause instanceof Error ? cause.message : String(cause)}`]);
  }
  redis.removeAllListeners("error");
  let warned = false;
  redis.on("error", (err: unknown) => {
    if (!warned) logger.warn({ err }, "burst limits: Redis unreachable, each host counts on its own until it is back");
    warned = true;
  });
  redis.on("ready", () => {
    warned = false;
  });
  return redis;
}

/** A session host's admission over `store`, and what closing it takes. */
export interface HostAdmission {
  turns: TurnAdmission;
  close(): Promise<void>;
}

export async function openHostAdmission(
  config: Pick<Config, "priceTable" | "redisUrl" | "burstInsuranceFraction" | "maxOutputTokens">,
  opts: { store: CreditStore; tenants: Pick<TenantStore, "getTenant">; logger: Logger; sharedBurst: boolean },
): Promise<HostAdmission> {
  const prices = loadPriceTable(config.priceTable);
  const redis = opts.sharedBurst && config.redisUrl !== null ? await connectBurstRedis(config.redisUrl, opts.logger) : null;
  const burst = new BurstLimiter(redis === null ? {} : { redis, insuranceFraction: config.burstInsuranceFraction });
  const admission = new Admission({ store: opts.store, prices, burst });
  const turns = new TurnAdmission({ admission, store: opts.store, planOf: tenantPlans(opts.tenants), maxOutputTokens: config.maxOutputTokens, logger: opts.logger });
  return {
    turns,
    close: async () => {
      turns.close();
      redis?.disconnect();
    },
  };
}

/** `account/rateLimits/read` for a router: the tenant's snapshot from the credit store. */
export function rateLimitsReader(store: CreditStore, tenants: Pick<TenantStore, "getTenant">): (tenant: string) => Promise<RateLimitSnapshot> {
  const admission = new Admission({ store, prices: new PriceTable(BUILTIN_PRICES), burst: new BurstLimiter() });
  const planOf = tenantPlans(tenants);
  return async (tenant) => admission.rateLimits(tenant, await planOf(tenant));
}
