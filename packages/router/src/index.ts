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
export { CapabilityTokenAuthenticator, AuthMessage, isLoopback } from "./capability-token-authenticator.ts";
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
export type { Authenticator, AuthRequest, AuthResult, Principal } from "./authenticator.ts";
export type { CapabilityTokenAuthenticatorOptions } from "./capability-token-authenticator.ts";
