import type { TokenUsageBreakdown } from "@threadmesh/protocol";
import type { ModelUsage } from "../model/model-client.ts";

/** One response's usage as the wire reports it (`last`). */
export function usageBreakdown(u: ModelUsage): TokenUsageBreakdown {
  return {
    totalTokens: u.totalTokens,
    inputTokens: u.inputTokens,
    cachedInputTokens: u.cachedInputTokens,
    cacheWriteInputTokens: 0,
    outputTokens: u.outputTokens,
    reasoningOutputTokens: u.reasoningOutputTokens,
  };
}

/** `a + b`, field by field (the thread's cumulative `total`). */
export function addUsage(a: TokenUsageBreakdown, b: TokenUsageBreakdown): TokenUsageBreakdown {
  return {
    totalTokens: a.totalTokens + b.totalTokens,
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteInputTokens: a.cacheWriteInputTokens + b.cacheWriteInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
  };
}
