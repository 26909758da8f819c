import { defaultRateLimits, type RateLimitSnapshot } from "@threadmesh/protocol";

/** The rate-limit snapshot of a tenant, read from the credit store. */
export type RateLimitsReader = (tenant: string) => Promise<RateLimitSnapshot>;

/** `account/read`: accounts belong to tenants, so there is no OpenAI account to sign in to. */
export function accountRead(): unknown {
  return { account: null, requiresOpenaiAuth: false };
}

/**
 * `account/read` with a credit store: the tenant's plan, reported as Codex reports a plan account
 * (`type: "chatgpt"`, no email, the plan's `planType`). The Codex terminal client reads and shows
 * `account/rateLimits/read` in `/status` only for such an account; with `account: null` it shows
 * "Limits: data not available yet" whatever the tenant's plan.
 */
export async function accountReadFor(read: RateLimitsReader, tenant: string): Promise<unknown> {
  const limits = await read(tenant);
  // `requiresOpenaiAuth: true` with an account is what makes the client read limits (it is signed in).
  return { account: { type: "chatgpt", email: null, planType: limits.planType ?? "unknown", workspaceName: null }, requiresOpenaiAuth: true };
}

/**
 * `account/usage/read` (the terminal client asks it in `/status` for a plan account): token activity and
 * per-thread estimates are not kept in this form, so every figure is unknown (null), as the schema allows;
 * a tenant's usage is in `threadmesh admin usage`.
 */
export function accountUsageRead(): unknown {
  return {
    summary: { lifetimeTokens: null, peakDailyTokens: null, currentStreakDays: null, longestStreakDays: null, longestRunningTurnSec: null },
    dailyUsageBuckets: null,
    threadUsage: null,
  };
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
