import { CODEX_COMPAT_VERSION, InvalidRequestError } from "@threadmesh/protocol";
import type { PlatformInfo } from "./platform.ts";

export { CODEX_COMPAT_VERSION };

/** Official `InitializeResponse`. */
export interface InitializeResponse {
  userAgent: string;
  codexHome: string;
  platformFamily: string;
  platformOs: string;
}

/**
 * A valid HTTP header value, as Codex checks `clientInfo.name` (the `http` crate's rule): no control
 * characters other than tab, no DEL. Non-ASCII is allowed.
 */
export function isValidHeaderValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** -32600 with Codex's message when the name cannot be used as an HTTP header value. */
export function checkClientName(name: string): void {
  if (!isValidHeaderValue(name)) {
    throw new InvalidRequestError(`Invalid clientInfo.name: '${name}'. Must be a valid HTTP header value.`);
  }
}

/**
 * `<name>/<CODEX_COMPAT_VERSION> (<os> <release>; <arch>) threadmesh (<name>; <version>)`: Codex's shape, with the
 * terminal slot naming the server. Unlike Codex, the originator is each connection's own name.
 */
export function initializeResponse(client: { name: string; version: string }, platform: PlatformInfo, codexHome: string): InitializeResponse {
  return {
    userAgent: `${client.name}/${CODEX_COMPAT_VERSION} (${platform.osType} ${platform.osRelease}; ${platform.arch}) threadmesh (${client.name}; ${client.version})`,
    codexHome,
    platformFamily: platform.platformFamily,
    platformOs: platform.platformOs,
  };
}
