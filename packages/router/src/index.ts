export { Router } from "./router.ts";
export {
  resolveRouterConfig,
  RouterConfigError,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_TENANT,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_HOST_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_INFLIGHT_PER_CONNECTION,
  DEFAULT_INFLIGHT_RETRY_AFTER_MS,
  DEFAULT_OUTBOUND_HIGH_WATER_BYTES,
  DEFAULT_OUTBOUND_MAX_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_READINESS_TIMEOUT_MS,
  DEFAULT_DRAIN_DEADLINE_MS,
  DEFAULT_CODEX_HOME,
  DEFAULT_MODEL_ID,
  DEFAULT_REASONING_EFFORTS,
} from "./config.ts";
export { CapabilityTokenAuthenticator, AuthMessage, isLoopback } from "./auth/capability-token-authenticator.ts";
export { CREDENTIAL_WITHDRAWN_CLOSE_CODE } from "./router.ts";
export {
  DEFAULT_CREDENTIAL_CACHE_MS,
  DEFAULT_AUTH_FAILURES_PER_MINUTE,
  DEFAULT_JWT_CLOCK_SKEW_SECONDS,
  DEFAULT_JWT_TENANT_CLAIM,
  DEFAULT_JWT_USER_CLAIM,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_AGE_MS,
  MIN_JWT_SECRET_BYTES,
} from "./config.ts";
export type { JwtConfig } from "./config.ts";
export type { ApiKeyLookup } from "./auth/api-key-verifier.ts";
export type { TenantLookup } from "./auth/tenant-status-cache.ts";
export { CODEX_COMPAT_VERSION } from "./handlers/initialize.ts";

export type { RouterOptions, RouterState } from "./router.ts";
export type { MeshView } from "./host-routing.ts";
export type {
  RouterConfig,
  ResolvedRouterConfig,
  ModelConfig,
  ModelEntry,
  ThreadDefaults,
  CapabilityToken,
  ReasoningEffortOption,
} from "./config.ts";
export type { Authenticator, AuthRequest, AuthResult, AuthFailureReason, Principal } from "./auth/authenticator.ts";
export type { CapabilityTokenAuthenticatorOptions } from "./auth/capability-token-authenticator.ts";
export type { RateLimitsReader } from "./handlers/account-reads.ts";
export { gatewayClient, GATEWAY_PROTO_PATH, type FrameMessage } from "./grpc-gateway/gateway-proto.ts";
export { CLOSE_CODE_TRAILER, CLOSE_REASON_TRAILER } from "./grpc-gateway/close-trailers.ts";
