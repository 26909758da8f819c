import { createHash, timingSafeEqual } from "node:crypto";
import type { AuthRequest, AuthResult, Authenticator } from "./authenticator.ts";
import { parseBearer } from "./bearer.ts";

/** 401 bodies, as Codex's `--ws-auth capability-token` sends them. */
export const AuthMessage = {
  Missing: "missing websocket bearer token",
  Invalid: "invalid websocket bearer token",
  BadHeader: "invalid authorization header",
} as const;

export interface CapabilityTokenAuthenticatorOptions {
  /** SHA-256 digests of the accepted tokens and the tenant each one authenticates. */
  tokens: ReadonlyArray<{ readonly sha256: Buffer; readonly tenant: string }>;
  /** Accept requests without an `Authorization` header from loopback peers, as this tenant. Default: off. */
  loopbackTenant?: string;
}

/**
 * `Authorization: Bearer <token>` against configured capability tokens. The scheme is matched
 * case-insensitively and the token trimmed; tokens are compared as SHA-256 digests in constant time,
 * against every configured digest so that timing does not reveal which one matched. Failures are
 * Codex's plain-text 401s.
 */
export class CapabilityTokenAuthenticator implements Authenticator {
  readonly #tokens: CapabilityTokenAuthenticatorOptions["tokens"];
  readonly #loopbackTenant: string | undefined;

  constructor(opts: CapabilityTokenAuthenticatorOptions) {
    this.#tokens = opts.tokens;
    this.#loopbackTenant = opts.loopbackTenant;
  }

  authenticate(req: AuthRequest): Promise<AuthResult> {
    return Promise.resolve(this.#check(req));
  }

  /** The tenant of the request without credentials when it comes from loopback in dev mode. */
  loopbackTenantFor(remoteAddress: string | undefined): string | undefined {
    return this.#loopbackTenant !== undefined && isLoopback(remoteAddress) ? this.#loopbackTenant : undefined;
  }

  /** The tenant `token` authenticates, or undefined. */
  tenantOf(token: string): string | undefined {
    const digest = createHash("sha256").update(token, "utf8").digest();
    let tenant: string | undefined;
    for (const t of this.#tokens) {
      if (timingSafeEqual(digest, t.sha256) && tenant === undefined) tenant = t.tenant;
    }
    return tenant;
  }

  #check(req: AuthRequest): AuthResult {
    const bearer = parseBearer(req.headers.authorization);
    if (bearer.kind === "missing") {
      const tenant = this.loopbackTenantFor(req.remoteAddress);
      if (tenant !== undefined) return { ok: true, principal: { tenant, method: "loopbackDevMode" } };
      return { ok: false, message: AuthMessage.Missing };
    }
    if (bearer.kind === "malformed") return { ok: false, message: AuthMessage.BadHeader };
    const tenant = this.tenantOf(bearer.token);
    if (tenant === undefined) return { ok: false, message: AuthMessage.Invalid };
    return { ok: true, principal: { tenant, method: "capabilityToken" } };
  }
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
