import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import type { TenantStore } from "@threadmesh/persistence";
import { Admission, BurstLimiter, PriceTable, SlicedCreditStore, type CreditStore, type ModelPrice } from "@threadmesh/ratelimit";
import { TurnAdmission } from "@threadmesh/session-host";
import { BUILTIN_PRICES, tenantPlans } from "./plan-prices.ts";
import type { Logger } from "@threadmesh/telemetry";
import type { Config } from "./config.ts";
import { ConfigError } from "./config.ts";

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

/**
 * Connects to THREADMESH_REDIS_URL for the burst limits shared by every host: commands fail at once
 * while Redis is down (no offline queue), so the in-memory insurance limiter answers instead. An
 * unreachable Redis at start-up is a configuration error.
 */
export async function connectBurstRedis(url: string, logger: Logger): Promise<Redis> {
  // Loaded only when a Redis burst store is configured: most processes never need the client.
  const { Redis } = await import("ioredis");
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
  // Hosts sharing the database admit rounds from budget slices held in memory; the embedded process
  // decides from its mirror of the whole budget already.
  const sliced = opts.sharedBurst
    ? new SlicedCreditStore(opts.store, { hostId: randomUUID().slice(0, 8), onError: (err, op) => opts.logger.warn({ err, op }, "budget slice: a background write failed") })
    : null;
  const store = sliced ?? opts.store;
  const admission = new Admission({ store, prices, burst });
  const turns = new TurnAdmission({ admission, store, planOf: tenantPlans(opts.tenants), maxOutputTokens: config.maxOutputTokens, logger: opts.logger });
  return {
    turns,
    close: async () => {
      turns.close();
      await sliced?.returnAll();
      redis?.disconnect();
    },
  };
}
