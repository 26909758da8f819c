import { defaultRateLimits, type RateLimitSnapshot } from "@threadmesh/protocol";

/** The rate-limit snapshot of a tenant, read from the credit store. */
export type RateLimitsReader = (tenant: string) => Promise<RateLimitSnapshot>;

/** `account/read`: accounts belong to tenants, so there is no OpenAI account to sign in to. */
export function accountRead(): unknown {
  return { account: null, requiresOpenaiAuth: false };
}

/** `account/rateLimits/read`: the snapshot without a plan (limit id only). */
export function rateLimitsRead(): unknown {
  return { rateLimits: defaultRateLimits(), rateLimitsByLimitId: null };
}

/** `account/rateLimits/read` with a credit store: the connection's tenant's snapshot, also keyed by its limit id. */
export async function rateLimitsReadFor(read: RateLimitsReader, tenant: string): Promise<unknown> {
  const rateLimits = await read(tenant);
  return { rateLimits, rateLimitsByLimitId: rateLimits.limitId === null ? null : { [rateLimits.limitId]: rateLimits } };
}

/** `account/bedrock/checkGovCloudRequirements` (experimental): no Bedrock. */
export function bedrockGovCloudCheck(): unknown {
  return { isGovCloud: false, shouldWarn: false };
}
