import type { ResolvedRouterConfig } from "../config.ts";

export interface ConfigReadParams {
  includeLayers?: boolean;
}

/** `config/read`: the effective defaults with config.toml (snake_case) keys. No layers are kept. */
export function configRead(defaults: ResolvedRouterConfig["defaults"], params: ConfigReadParams | undefined): unknown {
  return {
    config: {
      model: defaults.model,
      model_provider: defaults.modelProvider,
      approval_policy: defaults.approvalPolicy,
      sandbox_mode: defaults.sandbox,
      model_reasoning_effort: defaults.reasoningEffort,
    },
    origins: {},
    layers: params?.includeLayers === true ? [] : null,
  };
}

/** `configRequirements/read`: no requirements are enforced. */
export function configRequirementsRead(): unknown {
  return { requirements: null };
}
