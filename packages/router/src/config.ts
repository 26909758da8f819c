import { createHash } from "node:crypto";
import {
  isSubjectToken,
  resolveLimits,
  sameLimitsForAll,
  type AskForApproval,
  type LimitsResolver,
  type SandboxMode,
  type TenantLimits,
} from "@threadmesh/protocol";

/** Interface the router binds when none is configured. Loopback: nothing is exposed by accident. */
export const DEFAULT_HOST = "127.0.0.1";
/** TCP port; 0 lets the OS pick one (tests, embedded mode). */
export const DEFAULT_PORT = 0;
/** Tenant of tokens configured without one, and of unauthenticated loopback connections in dev mode. */
export const DEFAULT_TENANT = "default";
/** Largest inbound text frame, in bytes (8 MiB): a `turn/start` with a 1 Mi-char input fits with room to spare. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Open WebSocket connections per router; beyond it upgrades get 503. ~20 KB each keeps this near 200 MB. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Time a session host has to answer a command, in ms. */
export const DEFAULT_HOST_REQUEST_TIMEOUT_MS = 10_000;
/** Host requests one connection may have in flight; beyond it requests get -32001. */
export const DEFAULT_MAX_INFLIGHT_PER_CONNECTION = 256;
/** `retryAfterMs` suggested with the per-connection in-flight limit error, in ms. */
export const DEFAULT_INFLIGHT_RETRY_AFTER_MS = 250;
/** Longest wait of the oldest of 16 or more unanswered turn/starts before new ones are refused, in ms. */
export const DEFAULT_TURN_START_BACKLOG_MS = 2_000;
/** Bytes a connection's socket may buffer before the connection is behind and its deltas are coalesced (64 KiB). */
export const DEFAULT_OUTBOUND_HIGH_WATER_BYTES = 64 * 1024;
/** Outbound bytes held for one connection beyond which, after the grace period, it is closed with 1013 (1 MiB). */
export const DEFAULT_OUTBOUND_MAX_BYTES = 1024 * 1024;
/** How long a connection may stay over its outbound cap, in ms. */
export const DEFAULT_OUTBOUND_GRACE_MS = 10_000;
/** Outbound bytes held for all connections of a router together (64 MiB); beyond it the largest backlogs are closed. */
export const DEFAULT_OUTBOUND_TOTAL_MAX_BYTES = 64 * 1024 * 1024;
/** Interface of the metrics listener (`/metrics`, `/healthz`, `/readyz`), apart from the public port. */
export const DEFAULT_METRICS_HOST = "127.0.0.1";
/** WebSocket ping interval, in ms; a peer that missed the previous pong is terminated. 0 disables. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** Longest wait for the readiness check behind `/readyz`, in ms. */
export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;
/** Longest time `drain()` waits for in-flight host requests when no deadline is given, in ms. */
export const DEFAULT_DRAIN_DEADLINE_MS = 10_000;
/** How long a router reuses a verified API key or a tenant's status, in ms; credential events drop entries at once. */
export const DEFAULT_CREDENTIAL_CACHE_MS = 10_000;
/** Failed upgrades one address may have per minute before it gets 429 without its credentials being checked. */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 30;
/** Tolerance on JWT `exp`, `nbf` and `iat`, in seconds. */
export const DEFAULT_JWT_CLOCK_SKEW_SECONDS = 30;
/** JWT claim naming the tenant. */
export const DEFAULT_JWT_TENANT_CLAIM = "tenant";
/** JWT claim naming the user. */
export const DEFAULT_JWT_USER_CLAIM = "sub";
/** Least time between JWKS refetches when a token names a key the cached set lacks, in ms. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** A cached JWKS older than this is refetched, in ms. */
export const DEFAULT_JWKS_MAX_AGE_MS = 600_000;
/** `codexHome` reported by `initialize`. */
export const DEFAULT_CODEX_HOME = "/threadmesh";
/** Model catalogue used when none is configured. */
export const DEFAULT_MODEL_ID = "gpt-5.1-codex";
/** Reasoning efforts advertised for models that configure none. */
export const DEFAULT_REASONING_EFFORTS: readonly ReasoningEffortOption[] = [
  { reasoningEffort: "low", description: "Fast responses with lighter reasoning" },
  { reasoningEffort: "medium", description: "Balances speed and reasoning depth for everyday tasks" },
  { reasoningEffort: "high", description: "Greater reasoning depth for complex problems" },
];

export interface ReasoningEffortOption {
  reasoningEffort: string;
  description: string;
}

/** One entry of the `model/list` catalogue. */
export interface ModelConfig {
  id: string;
  /** Model slug sent to the provider. Default: `id`. */
  model?: string;
  /** Default: `id`. */
  displayName?: string;
  /** Default: "". */
  description?: string;
  /** Listed only with `includeHidden`. Default: false. */
  hidden?: boolean;
  /** Default: true for the first model when none is marked. */
  isDefault?: boolean;
  /** Default: "medium". */
  defaultReasoningEffort?: string;
  /** Default: {@link DEFAULT_REASONING_EFFORTS}. */
  supportedReasoningEfforts?: readonly ReasoningEffortOption[];
  /** Default: ["text", "image"]. */
  inputModalities?: ReadonlyArray<"text" | "image" | "audio">;
}

/** The effective settings `config/read` reports (what a new thread gets when the client sets nothing). */
export interface ThreadDefaults {
  /** Default: the catalogue's default model. */
  model?: string;
  /** Default: "openai". */
  modelProvider?: string;
  /** Default: "on-request". */
  approvalPolicy?: Exclude<AskForApproval, { granular: unknown }>;
  /** Sandbox mode (as in `thread/start.sandbox`). Default: "workspace-write". */
  sandbox?: SandboxMode;
  /** Default: "medium". */
  reasoningEffort?: string | null;
}

/**
 * A capability token accepted at the WebSocket upgrade (`Authorization: Bearer <token>`). Give the
 * token itself or its SHA-256 digest (64 hex chars) so that the secret need not be in memory.
 */
export type CapabilityToken = ({ token: string } | { sha256: string }) & {
  /** Tenant the token authenticates. Default: {@link DEFAULT_TENANT}. */
  tenant?: string;
};

/** JWT authentication: a shared HS256 secret, a JWKS URL for RS256 / ES256, or both. */
export interface JwtConfig {
  /** HS256 secret, at least 32 bytes. */
  secret?: string;
  /** `https://…/jwks.json` (or http) serving the RS256 / ES256 public keys. */
  jwksUrl?: string;
  /** Required `iss`. Default: not checked. */
  issuer?: string;
  /** Required `aud`. Default: not checked. */
  audience?: string;
  /** Default {@link DEFAULT_JWT_CLOCK_SKEW_SECONDS}. */
  clockSkewSeconds?: number;
  /** Default {@link DEFAULT_JWT_TENANT_CLAIM}. */
  tenantClaim?: string;
  /** Default {@link DEFAULT_JWT_USER_CLAIM}. */
  userClaim?: string;
  /** In ms. Default {@link DEFAULT_JWKS_COOLDOWN_MS}. */
  jwksCooldownMs?: number;
  /** In ms. Default {@link DEFAULT_JWKS_MAX_AGE_MS}. */
  jwksMaxAgeMs?: number;
}

/** Router configuration. Every field is optional; `resolveRouterConfig` fills in the defaults. */
export interface RouterConfig {
  /** Interface to bind. Default {@link DEFAULT_HOST}. */
  host?: string;
  /** TCP port. Default {@link DEFAULT_PORT}. */
  port?: number;
  /** Accepted capability tokens. Default: none (every upgrade needs dev mode to succeed). */
  tokens?: readonly CapabilityToken[];
  /** Accept upgrades without an `Authorization` header from loopback addresses. Default false. */
  devMode?: boolean;
  /** Tenant of capability tokens configured without one and of loopback connections in dev mode. Default {@link DEFAULT_TENANT}. */
  defaultTenant?: string;
  /** JWT authentication; off when absent. */
  jwt?: JwtConfig;
  /** In ms; 0 disables the cache. Default {@link DEFAULT_CREDENTIAL_CACHE_MS}. */
  credentialCacheMs?: number;
  /** Default {@link DEFAULT_AUTH_FAILURES_PER_MINUTE}. */
  authFailuresPerMinute?: number;
  /** Exact `Origin` values allowed; any other request carrying `Origin` gets 403. Default: none. */
  allowedOrigins?: readonly string[];
  /** Serve the browser console at `/console` (and `POST /console/ticket`). Default false. */
  console?: boolean;
  /**
   * Key (at least 32 bytes) signing console tickets; every router behind one address needs the same
   * one so that a ticket issued by one is redeemed by another. Default: a key of this router's own.
   */
  consoleTicketSecret?: string;
  /** Largest inbound frame, in bytes. Default {@link DEFAULT_MAX_FRAME_BYTES}. */
  maxFrameBytes?: number;
  /** Default {@link DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /** In ms. Default {@link DEFAULT_HOST_REQUEST_TIMEOUT_MS}. */
  hostRequestTimeoutMs?: number;
  /**
   * With 16 or more turn/starts unanswered by hosts, the oldest waiting longer than this (ms), new
   * turn/starts are refused with -32001 and retryAfterMs; 0 turns the check off. Default {@link DEFAULT_TURN_START_BACKLOG_MS}.
   */
  turnStartBacklogMs?: number;
  /** Default {@link DEFAULT_MAX_INFLIGHT_PER_CONNECTION}. */
  maxInflightPerConnection?: number;
  /** In ms. Default {@link DEFAULT_INFLIGHT_RETRY_AFTER_MS}. */
  inflightRetryAfterMs?: number;
  /** In bytes. Default {@link DEFAULT_OUTBOUND_HIGH_WATER_BYTES}. */
  outboundHighWaterBytes?: number;
  /** Per-connection cap, in bytes; must be at least `outboundHighWaterBytes`. Default {@link DEFAULT_OUTBOUND_MAX_BYTES}. */
  outboundMaxBytes?: number;
  /** In ms. Default {@link DEFAULT_OUTBOUND_GRACE_MS}. */
  outboundGraceMs?: number;
  /** In bytes; must be at least `outboundMaxBytes`. Default {@link DEFAULT_OUTBOUND_TOTAL_MAX_BYTES}. */
  outboundTotalMaxBytes?: number;
  /** Interface of the metrics listener. Default {@link DEFAULT_METRICS_HOST}. */
  metricsHost?: string;
  /** Port of the metrics listener (0 = ephemeral); null or absent: none, `/metrics` is not served. */
  metricsPort?: number | null;
  /**
   * Port of the partner gRPC gateway (`threadmesh.gateway.v1.Gateway`) on `host` (0 = ephemeral); null
   * or absent: not served.
   */
  gatewayPort?: number | null;
  /** In ms; 0 disables. Default {@link DEFAULT_PING_INTERVAL_MS}. */
  pingIntervalMs?: number;
  /** In ms. Default {@link DEFAULT_READINESS_TIMEOUT_MS}. */
  readinessTimeoutMs?: number;
  /** Longest text input of `turn/start` / `turn/steer`, in characters. Default: `limits.maxInputChars`. */
  maxInputChars?: number;
  /** Quotas and input limits of every tenant; missing ones take the protocol's `DEFAULT_LIMITS`. */
  limits?: Partial<TenantLimits>;
  /** Absolute path reported as `codexHome`. Default {@link DEFAULT_CODEX_HOME}. */
  codexHome?: string;
  /** `model/list` catalogue. Default: one model, {@link DEFAULT_MODEL_ID}. */
  models?: readonly ModelConfig[];
  /** What `config/read` reports. */
  defaults?: ThreadDefaults;
  /** Shed new turns of the lowest priority classes when the session hosts are under pressure. Default true. */
  shedding?: boolean;
  /** Consecutive deltas of one item in a host batch go out as one frame (with `firstSeq`). Default false. */
  joinDeltas?: boolean;
}

/** A model as `model/list` returns it (the official `Model` shape). */
export interface ModelEntry {
  id: string;
  model: string;
  displayName: string;
  description: string;
  hidden: boolean;
  isDefault: boolean;
  defaultReasoningEffort: string;
  supportedReasoningEfforts: ReasoningEffortOption[];
  inputModalities: Array<"text" | "image" | "audio">;
  upgrade: null;
  upgradeInfo: null;
  availabilityNux: null;
  modelSpecialty: null;
  supportsPersonality: false;
  multiAgentVersion: null;
  additionalSpeedTiers: string[];
  serviceTiers: never[];
  defaultServiceTier: null;
  availableAccessPrograms: null;
}

/** Configuration with every default applied; frozen. */
export interface ResolvedRouterConfig {
  readonly host: string;
  readonly port: number;
  readonly tokens: ReadonlyArray<{ readonly sha256: Buffer; readonly tenant: string }>;
  readonly devMode: boolean;
  readonly console: boolean;
  readonly consoleTicketSecret: string | null;
  readonly defaultTenant: string;
  readonly jwt: Readonly<Required<Pick<JwtConfig, "clockSkewSeconds" | "tenantClaim" | "userClaim" | "jwksCooldownMs" | "jwksMaxAgeMs">> & Pick<JwtConfig, "secret" | "jwksUrl" | "issuer" | "audience">> | null;
  readonly credentialCacheMs: number;
  readonly authFailuresPerMinute: number;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly maxFrameBytes: number;
  readonly maxConnections: number;
  readonly hostRequestTimeoutMs: number;
  readonly turnStartBacklogMs: number;
  readonly maxInflightPerConnection: number;
  readonly inflightRetryAfterMs: number;
  readonly outboundHighWaterBytes: number;
  readonly outboundMaxBytes: number;
  readonly outboundGraceMs: number;
  readonly outboundTotalMaxBytes: number;
  readonly metricsHost: string;
  readonly metricsPort: number | null;
  readonly gatewayPort: number | null;
  readonly pingIntervalMs: number;
  readonly readinessTimeoutMs: number;
  readonly maxInputChars: number;
  /** The quotas and input limits of a tenant. */
  readonly limitsFor: LimitsResolver;
  readonly codexHome: string;
  readonly models: readonly ModelEntry[];
  readonly defaults: Readonly<Required<ThreadDefaults>>;
  readonly shedding: boolean;
  readonly joinDeltas: boolean;
}

/** Invalid router configuration; `problems` lists every bad key. */
export class RouterConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid router config: ${problems.join("; ")}`);
    this.name = "RouterConfigError";
    this.problems = problems;
  }
}

/** Applies defaults and validates; throws {@link RouterConfigError} listing every problem. */
export function resolveRouterConfig(c: RouterConfig): ResolvedRouterConfig {
  const problems: string[] = [];
  const int = (key: keyof RouterConfig, v: number | undefined, def: number, min: number): number => {
    const n = v ?? def;
    if (!Number.isSafeInteger(n) || n < min) problems.push(`${key} must be an integer >= ${min}`);
    return n;
  };
  const defaultTenant = c.defaultTenant ?? DEFAULT_TENANT;
  if (!isSubjectToken(defaultTenant)) problems.push("defaultTenant must match [A-Za-z0-9_-]{1,64}");
  const tokens = (c.tokens ?? []).map((t, i) => {
    const tenant = t.tenant ?? defaultTenant;
    if (!isSubjectToken(tenant)) problems.push(`tokens[${i}].tenant must match [A-Za-z0-9_-]{1,64}`);
    if ("sha256" in t) {
      if (!/^[0-9a-f]{64}$/i.test(t.sha256)) problems.push(`tokens[${i}].sha256 must be 64 hex characters`);
      return { sha256: Buffer.from(t.sha256, "hex"), tenant };
    }
    const token = t.token.trim();
    if (token.length === 0) problems.push(`tokens[${i}].token must not be empty`);
    return { sha256: sha256(token), tenant };
  });
  const jwt = resolveJwt(c.jwt, problems);
  if (c.consoleTicketSecret !== undefined && Buffer.byteLength(c.consoleTicketSecret, "utf8") < MIN_JWT_SECRET_BYTES) {
    problems.push(`consoleTicketSecret must be at least ${MIN_JWT_SECRET_BYTES} bytes (got ${Buffer.byteLength(c.consoleTicketSecret, "utf8")})`);
  }
  const highWater = int("outboundHighWaterBytes", c.outboundHighWaterBytes, DEFAULT_OUTBOUND_HIGH_WATER_BYTES, 1);
  const maxBytes = int("outboundMaxBytes", c.outboundMaxBytes, DEFAULT_OUTBOUND_MAX_BYTES, 1);
  if (maxBytes < highWater) problems.push("outboundMaxBytes must be >= outboundHighWaterBytes");
  const totalMax = int("outboundTotalMaxBytes", c.outboundTotalMaxBytes, DEFAULT_OUTBOUND_TOTAL_MAX_BYTES, 1);
  if (totalMax < maxBytes) problems.push("outboundTotalMaxBytes must be >= outboundMaxBytes");
  const metricsPort = c.metricsPort === undefined || c.metricsPort === null ? null : int("metricsPort", c.metricsPort, 0, 0);
  const gatewayPort = c.gatewayPort === undefined || c.gatewayPort === null ? null : int("gatewayPort", c.gatewayPort, 0, 0);
  const codexHome = c.codexHome ?? DEFAULT_CODEX_HOME;
  if (!codexHome.startsWith("/")) problems.push("codexHome must be an absolute path");
  const models = resolveModels(c.models, problems);
  let limits: Readonly<TenantLimits> = resolveLimits();
  try {
    limits = resolveLimits({ ...c.limits, ...(c.maxInputChars === undefined ? {} : { maxInputChars: c.maxInputChars }) });
  } catch (err) {
    problems.push((err as Error).message);
  }
  const defaultModel = models.find((m) => m.isDefault)?.id ?? DEFAULT_MODEL_ID;
  const resolved: ResolvedRouterConfig = {
    host: c.host ?? DEFAULT_HOST,
    port: int("port", c.port, DEFAULT_PORT, 0),
    tokens,
    devMode: c.devMode ?? false,
    console: c.console ?? false,
    consoleTicketSecret: c.consoleTicketSecret ?? null,
    defaultTenant,
    jwt,
    credentialCacheMs: int("credentialCacheMs", c.credentialCacheMs, DEFAULT_CREDENTIAL_CACHE_MS, 0),
    authFailuresPerMinute: int("authFailuresPerMinute", c.authFailuresPerMinute, DEFAULT_AUTH_FAILURES_PER_MINUTE, 1),
    allowedOrigins: new Set(c.allowedOrigins ?? []),
    maxFrameBytes: int("maxFrameBytes", c.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1024),
    maxConnections: int("maxConnections", c.maxConnections, DEFAULT_MAX_CONNECTIONS, 1),
    hostRequestTimeoutMs: int("hostRequestTimeoutMs", c.hostRequestTimeoutMs, DEFAULT_HOST_REQUEST_TIMEOUT_MS, 1),
    turnStartBacklogMs: int("turnStartBacklogMs", c.turnStartBacklogMs, DEFAULT_TURN_START_BACKLOG_MS, 0),
    maxInflightPerConnection: int("maxInflightPerConnection", c.maxInflightPerConnection, DEFAULT_MAX_INFLIGHT_PER_CONNECTION, 1),
    inflightRetryAfterMs: int("inflightRetryAfterMs", c.inflightRetryAfterMs, DEFAULT_INFLIGHT_RETRY_AFTER_MS, 0),
    outboundHighWaterBytes: highWater,
    outboundMaxBytes: maxBytes,
    outboundGraceMs: int("outboundGraceMs", c.outboundGraceMs, DEFAULT_OUTBOUND_GRACE_MS, 0),
    outboundTotalMaxBytes: totalMax,
    metricsHost: c.metricsHost ?? DEFAULT_METRICS_HOST,
    metricsPort,
    gatewayPort,
    pingIntervalMs: int("pingIntervalMs", c.pingIntervalMs, DEFAULT_PING_INTERVAL_MS, 0),
    readinessTimeoutMs: int("readinessTimeoutMs", c.readinessTimeoutMs, DEFAULT_READINESS_TIMEOUT_MS, 1),
    maxInputChars: limits.maxInputChars,
    limitsFor: sameLimitsForAll(limits),
    codexHome,
    models,
    defaults: Object.freeze({
      model: c.defaults?.model ?? defaultModel,
      modelProvider: c.defaults?.modelProvider ?? "openai",
      approvalPolicy: c.defaults?.approvalPolicy ?? "on-request",
      sandbox: c.defaults?.sandbox ?? "workspace-write",
      reasoningEffort: c.defaults?.reasoningEffort === undefined ? "medium" : c.defaults.reasoningEffort,
    }),
    shedding: c.shedding ?? true,
    joinDeltas: c.joinDeltas ?? false,
  };
  if (problems.length > 0) throw new RouterConfigError(problems);
  return Object.freeze(resolved);
}

/** Shortest HS256 secret, in bytes (RFC 7518 §3.2: at least the size of the hash). */
export const MIN_JWT_SECRET_BYTES = 32;

function resolveJwt(j: JwtConfig | undefined, problems: string[]): ResolvedRouterConfig["jwt"] {
  if (j === undefined) return null;
  if (j.secret === undefined && j.jwksUrl === undefined) problems.push("jwt needs a secret or a jwksUrl");
  if (j.secret !== undefined) {
    const bytes = Buffer.byteLength(j.secret, "utf8");
    if (bytes < MIN_JWT_SECRET_BYTES) problems.push(`jwt.secret must be at least ${MIN_JWT_SECRET_BYTES} bytes (got ${bytes})`);
  }
  if (j.jwksUrl !== undefined) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(j.jwksUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`jwt.jwksUrl must be an http(s) URL (got ${JSON.stringify(j.jwksUrl)})`);
  }
  const nonNegative = (key: string, v: number | undefined, def: number): number => {
    const n = v ?? def;
    if (!Number.isSafeInteger(n) || n < 0) problems.push(`jwt.${key} must be an integer >= 0`);
    return n;
  };
  const claim = (key: string, v: string | undefined, def: string): string => {
    const n = v ?? def;
    if (n.length === 0) problems.push(`jwt.${key} must not be empty`);
    return n;
  };
  return Object.freeze({
    ...(j.secret === undefined ? {} : { secret: j.secret }),
    ...(j.jwksUrl === undefined ? {} : { jwksUrl: j.jwksUrl }),
    ...(j.issuer === undefined ? {} : { issuer: j.issuer }),
    ...(j.audience === undefined ? {} : { audience: j.audience }),
    clockSkewSeconds: nonNegative("clockSkewSeconds", j.clockSkewSeconds, DEFAULT_JWT_CLOCK_SKEW_SECONDS),
    tenantClaim: claim("tenantClaim", j.tenantClaim, DEFAULT_JWT_TENANT_CLAIM),
    userClaim: claim("userClaim", j.userClaim, DEFAULT_JWT_USER_CLAIM),
    jwksCooldownMs: nonNegative("jwksCooldownMs", j.jwksCooldownMs, DEFAULT_JWKS_COOLDOWN_MS),
    jwksMaxAgeMs: nonNegative("jwksMaxAgeMs", j.jwksMaxAgeMs, DEFAULT_JWKS_MAX_AGE_MS),
  });
}

function resolveModels(models: readonly ModelConfig[] | undefined, problems: string[]): ModelEntry[] {
  const list = models ?? [{ id: DEFAULT_MODEL_ID, description: "Default model" }];
  const anyDefault = list.some((m) => m.isDefault === true);
  return list.map((m, i) => {
    if (m.id.length === 0) problems.push(`models[${i}].id must not be empty`);
    return {
      id: m.id,
      model: m.model ?? m.id,
      displayName: m.displayName ?? m.id,
      description: m.description ?? "",
      hidden: m.hidden ?? false,
      isDefault: anyDefault ? m.isDefault === true : i === 0,
      defaultReasoningEffort: m.defaultReasoningEffort ?? "medium",
      supportedReasoningEfforts: (m.supportedReasoningEfforts ?? DEFAULT_REASONING_EFFORTS).map((e) => ({ ...e })),
      inputModalities: [...(m.inputModalities ?? ["text", "image"])],
      upgrade: null,
      upgradeInfo: null,
      availabilityNux: null,
      modelSpecialty: null,
      supportsPersonality: false,
      multiAgentVersion: null,
      additionalSpeedTiers: [],
      serviceTiers: [],
      defaultServiceTier: null,
      availableAccessPrograms: null,
    };
  });
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
