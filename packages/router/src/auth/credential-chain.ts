import type { AuthRequest, AuthResult, Authenticator, TokenVerifier } from "./authenticator.ts";
import { refuse } from "./authenticator.ts";
import { API_KEY_PREFIX } from "@threadmesh/persistence";
import { isJwtShaped, parseBearer } from "./bearer.ts";
import { AuthMessage, type CapabilityTokenAuthenticator } from "./capability-token-authenticator.ts";

export interface CredentialChainOptions {
  capability: CapabilityTokenAuthenticator;
  apiKeys?: TokenVerifier;
  jwt?: TokenVerifier;
}

/**
 * Capability token, API key and JWT behind one `Authorization: Bearer` header. A token is sent to
 * exactly one verifier by its shape: `tm_live_…` to the API keys, three base64url segments to the JWT
 * verifier, anything else to the capability tokens (the operator token of the default tenant).
 *
 * Failures are JSON (`reason`, `WWW-Authenticate`) whenever API keys or JWTs are enabled, including a
 * missing header and a wrong capability token (whose messages stay Codex's). Only a router configured
 * with capability tokens alone answers exactly as Codex's `--ws-auth capability-token` does (plain
 * text): that is what clients and traces recorded against Codex expect, and such a router has no
 * other credential whose failure would need a reason.
 */
export class CredentialChain implements Authenticator {
  readonly #opts: CredentialChainOptions;

  constructor(opts: CredentialChainOptions) {
    this.#opts = opts;
  }

  async authenticate(req: AuthRequest): Promise<AuthResult> {
    const { capability, apiKeys, jwt } = this.#opts;
    if (apiKeys === undefined && jwt === undefined) return capability.authenticate(req);
    const bearer = parseBearer(req.headers.authorization);
    if (bearer.kind === "missing") {
      const tenant = capability.loopbackTenantFor(req.remoteAddress);
      if (tenant !== undefined) return { ok: true, principal: { tenant, method: "loopbackDevMode" } };
      return refuse("missing", AuthMessage.Missing);
    }
    if (bearer.kind === "malformed") return refuse("malformed", AuthMessage.BadHeader);
    const { token } = bearer;
    if (apiKeys && token.startsWith(API_KEY_PREFIX)) return apiKeys.verify(token);
    if (jwt && isJwtShaped(token)) return jwt.verify(token);
    const tenant = capability.tenantOf(token);
    if (tenant === undefined) return refuse("invalid", AuthMessage.Invalid);
    return { ok: true, principal: { tenant, method: "capabilityToken" } };
  }
}
