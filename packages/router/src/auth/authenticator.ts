import type { IncomingHttpHeaders } from "node:http";

/** What an authenticator sees of a WebSocket upgrade request. */
export interface AuthRequest {
  readonly headers: IncomingHttpHeaders;
  /** Peer address of the TCP socket (IPv4, IPv6 or IPv4-mapped IPv6), when known. */
  readonly remoteAddress: string | undefined;
}

/** Who a connection is: fixed at the upgrade for the connection's lifetime. */
export interface Principal {
  /** Tenant every request of the connection is scoped to; a subject-safe token. */
  readonly tenant: string;
  /** How the connection authenticated. */
  readonly method: "capabilityToken" | "loopbackDevMode" | "apiKey" | "jwt" | (string & {});
  /** The user inside the tenant: a JWT's subject (or configured claim), an API key's owner. */
  readonly user?: string;
  /** The API key the connection authenticated with. */
  readonly keyId?: string;
  /** Scopes granted by the credential; empty when it grants none. */
  readonly scopes?: readonly string[];
  /** The tenant's priority class (0 shed first … 9 shed last) when the store was asked; else the default class. */
  readonly priorityClass?: number;
}

/** Why a credential was refused (the `reason` of a JSON 401 body). */
export type AuthFailureReason =
  | "missing"
  | "malformed"
  | "invalid"
  | "expired"
  | "not_yet_valid"
  | "bad_signature"
  | "bad_algorithm"
  | "bad_audience"
  | "bad_issuer"
  | "bad_claims"
  | "revoked"
  | "unknown_key"
  | "unknown_tenant"
  | "suspended_tenant"
  | "unavailable";

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  /**
   * Rejected. Without `reason` the upgrade is answered as Codex answers it: `401`,
   * `text/plain; charset=utf-8`, `message` as the body. With `reason`: `401` with a JSON body
   * `{error: "unauthorized", reason, message}` and `WWW-Authenticate`. With `retryAfterSeconds`: `429`
   * with `Retry-After` (too many failures from the address; credentials were not checked).
   */
  | { readonly ok: false; readonly message: string; readonly reason?: AuthFailureReason; readonly retryAfterSeconds?: number };

/**
 * Decides at the WebSocket upgrade, before any JSON-RPC, whether a connection is accepted and for which
 * tenant. Implementations: capability tokens (`CapabilityTokenAuthenticator`), the chain of capability
 * token, API key and JWT (`CredentialChain`), and the failure throttle around it. Must not throw; a
 * rejected promise is treated as a 401 with a generic message.
 */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<AuthResult>;
}

/** A verifier of one kind of bearer token, given the token alone. */
export interface TokenVerifier {
  verify(token: string): Promise<AuthResult>;
}

/** Failure with a JSON reason. */
export function refuse(reason: AuthFailureReason, message: string): AuthResult {
  return { ok: false, reason, message };
}
