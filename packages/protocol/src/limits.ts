import { ErrorCode, InvalidParamsError, InvalidRequestError, RpcError } from "./errors.ts";
import { DEFAULT_MAX_INPUT_CHARS } from "./validate.ts";

/**
 * Quotas and input limits of one tenant. Today every tenant gets the same value; plans will give
 * tenants their own, so callers always ask {@link LimitsResolver} with the tenant at hand.
 */
export interface TenantLimits {
  /** Deepest nesting of arrays and objects in one frame (the frame's own object is depth 1). */
  readonly maxJsonDepth: number;
  /** Longest string request id, in characters; longer ids are not valid ids. */
  readonly maxRequestIdChars: number;
  /** Longest `baseInstructions` / `developerInstructions`, each, in characters. */
  readonly maxInstructionsChars: number;
  /** Text of one `turn/start` / `turn/steer`, all text items together, in characters (Codex: 1,048,576). */
  readonly maxInputChars: number;
  /** Items in one `input` array. */
  readonly maxInputItems: number;
  /** Image items (`image`, `localImage`) in one `input` array. */
  readonly maxInputImages: number;
  /** Every string of one `input` array together (text, data URLs, paths), in UTF-8 bytes. */
  readonly maxInputBytes: number;
  /** Longest thread name (`thread/name/set`), in characters. */
  readonly maxThreadNameChars: number;
  /** Longest id a client names besides thread ids (turn ids, item ids, `clientUserMessageId`), in characters. */
  readonly maxIdChars: number;
  /** Longest page cursor, in characters. */
  readonly maxCursorChars: number;
  /** Largest page of a listing; larger `limit`s are clamped to it, and so is an absent one where it means "all". */
  readonly maxPageSize: number;
  /** Threads one connection keeps subscribed (started, forked or resumed, not unsubscribed). */
  readonly maxThreadsPerConnection: number;
  /** Threads of one tenant loaded on one session host (a mesh of N hosts holds up to N times this). */
  readonly maxThreadsPerTenant: number;
  /** Longest a command may wait in a thread's queue before it is answered -32001 instead of served, in ms. */
  readonly requestQueueTimeoutMs: number;
}

/** Gives the limits of a tenant. */
export type LimitsResolver = (tenant: string) => Readonly<TenantLimits>;

export const DEFAULT_LIMITS: Readonly<TenantLimits> = Object.freeze({
  maxJsonDepth: 64,
  maxRequestIdChars: 256,
  maxInstructionsChars: 131_072,
  maxInputChars: DEFAULT_MAX_INPUT_CHARS,
  maxInputItems: 256,
  maxInputImages: 16,
  maxInputBytes: 6 * 1024 * 1024,
  maxThreadNameChars: 256,
  maxIdChars: 128,
  maxCursorChars: 1_024,
  maxPageSize: 100,
  maxThreadsPerConnection: 100,
  maxThreadsPerTenant: 1_000,
  requestQueueTimeoutMs: 5_000,
});

/** Reasons carried in `data.reason` of limit errors. */
export const LimitReason = {
  TooLarge: "tooLarge",
  TooDeep: "nestingTooDeep",
  ConnectionThreads: "connectionThreadLimit",
  TenantThreads: "tenantThreadLimit",
  QueueTimeout: "queueTimeout",
  HostTimeout: "hostTimeout",
  /** A command reached its deadline (`CommandEnvelope.deadline`) before its work started. */
  DeadlineExceeded: "deadlineExceeded",
} as const;

/** Fills missing limits with {@link DEFAULT_LIMITS}; throws listing every value that is not a positive integer. */
export function resolveLimits(partial: Partial<TenantLimits> = {}): Readonly<TenantLimits> {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  const problems: string[] = [];
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_LIMITS)) problems.push(`unknown limit ${k}`);
    else if (!Number.isSafeInteger(v) || (v as number) < 1) problems.push(`${k} must be an integer >= 1`);
    else out[k] = v as number;
  }
  if (problems.length > 0) throw new Error(`invalid limits: ${problems.join("; ")}`);
  return Object.freeze(out as unknown as TenantLimits);
}

/** One resolver that gives every tenant the same limits. */
export function sameLimitsForAll(limits: Readonly<TenantLimits>): LimitsResolver {
  return () => limits;
}

/** -32602 naming the field and the limit. */
export function fieldTooLarge(field: string, limit: number, actual: number, unit: "characters" | "items" | "images" | "bytes"): InvalidParamsError {
  return new InvalidParamsError(`Invalid params: \`${field}\` exceeds the maximum of ${limit} ${unit}`, {
    reason: LimitReason.TooLarge,
    field,
    limit,
    actual,
  });
}

/** -32600 for a frame nested deeper than the limit. */
export function nestingTooDeep(limit: number): InvalidRequestError {
  return new InvalidRequestError(`Invalid request: JSON nested deeper than ${limit} levels`, { reason: LimitReason.TooDeep, limit });
}

/** -32600: the connection keeps the most threads it may; it must unsubscribe one first (waiting does not help). */
export function connectionThreadLimit(limit: number): InvalidRequestError {
  return new InvalidRequestError(`too many threads on this connection (limit ${limit}); unsubscribe from one first`, {
    reason: LimitReason.ConnectionThreads,
    limit,
  });
}

/** -32001: the tenant's threads fill its quota and none is idle enough to unload; retry later. */
export function tenantThreadLimit(limit: number, retryAfterMs: number): RpcError {
  return new RpcError(ErrorCode.Overloaded, `too many loaded threads for this tenant (limit ${limit}); retry later`, {
    reason: LimitReason.TenantThreads,
    retryAfterMs,
    limit,
  });
}
