import { createHash } from "node:crypto";
import { InvalidRequestError } from "@threadmesh/protocol";

/** Official `ConfigWriteResponse`, the answer to `modelProvider/default/set`. */
export interface ConfigWriteResponse {
  status: "ok";
  version: string;
  filePath: string;
  overriddenMetadata: null;
}

/**
 * `modelProvider/default/set` (Codex 0.171). The mesh serves one operator-configured provider, which no
 * client can change: naming it succeeds without writing anything; any other provider gets Codex's
 * "not configured" error.
 */
export function modelProviderDefaultSet(params: { providerId: string }, configured: string, codexHome: string): ConfigWriteResponse {
  if (params.providerId !== configured) {
    throw new InvalidRequestError(`Model provider \`${params.providerId}\` is not configured.`, { config_write_error_code: "configValidationError" });
  }
  const version = `sha256:${createHash("sha256").update(`model_provider = "${configured}"\n`).digest("hex")}`;
  return { status: "ok", version, filePath: `${codexHome}/config.toml`, overriddenMetadata: null };
}
