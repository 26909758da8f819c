import { defaultRateLimits } from "@threadmesh/protocol";

/** `account/read`: accounts belong to tenants, so there is no OpenAI account to sign in to. */
export function accountRead(): unknown {
  return { account: null, requiresOpenaiAuth: false };
}

/** `account/rateLimits/read`: the snapshot without a plan (limit id only). */
export function rateLimitsRead(): unknown {
  return { rateLimits: defaultRateLimits(), rateLimitsByLimitId: null };
}

/** `account/bedrock/checkGovCloudRequirements` (experimental): no Bedrock. */
export function bedrockGovCloudCheck(): unknown {
  return { isGovCloud: false, shouldWarn: false };
}
