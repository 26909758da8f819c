export { SessionHost } from "./session-host.ts";
export { LazyResponsesModel, preloadResponsesModel } from "./model/lazy-responses-model.ts";
export { ModelError, ModelAbortedError } from "./model/model-client.ts";
export {
  DEFAULT_WORKSPACE_ROOT,
  DEFAULT_MODEL,
  DEFAULT_MODEL_PROVIDER,
  DEFAULT_MODEL_BASE_URL,
  DEFAULT_MODEL_MAX_RETRIES,
  DEFAULT_MODEL_IDLE_TIMEOUT_MS,
  DEFAULT_MODEL_CONTEXT_WINDOW,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_COMMAND_TIMEOUT_MS,
  DEFAULT_OUTPUT_CAP_BYTES,
  DEFAULT_MAILBOX_CAPACITY,
  DEFAULT_THREAD_UNLOAD_DELAY_MS,
  DEFAULT_BWRAP_PATH,
  DEFAULT_OVERLOAD_RETRY_AFTER_MS,
  DEFAULT_INSTRUCTIONS,
  resolveHostConfig,
  resolveModelConfig,
} from "./config.ts";

export {
  APPROVAL_POLICY_NAMES,
  SANDBOX_MODES,
  SHARED_POLICY_CAPS,
  OPERATOR_POLICY_CAPS,
  configuredPolicyCaps,
} from "./policy/policy-caps.ts";

export type { HostState, SessionHostOptions } from "./session-host.ts";
export type { PolicyCaps, PolicyCapsLookup, ApprovalPolicyName } from "./policy/policy-caps.ts";
export { TenantCapsCache, narrowCaps, DEFAULT_TENANT_CAPS_TTL_MS } from "./policy/tenant-caps.ts";
export type { TenantPolicySource } from "./policy/tenant-caps.ts";
export type { HostConfig, ModelConfig } from "./config.ts";
export type {
  ModelClient,
  ModelRequest,
  ModelResponse,
  ModelStreamSink,
  ModelFunctionCall,
  ModelUsage,
} from "./model/model-client.ts";
export { TurnAdmission, estimateInputTokens } from "./admission/turn-admission.ts";
export type { Payer, PlanLookup, TurnAdmissionOptions } from "./admission/turn-admission.ts";
