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
  readonly method: "capabilityToken" | "loopbackDevMode" | (string & {});
}

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  /** Rejected: the upgrade is answered with `401`, `text/plain; charset=utf-8`, `message` as the body. */
  | { readonly ok: false; readonly message: string };

/**
 * Decides at the WebSocket upgrade, before any JSON-RPC, whether a connection is accepted and for which
 * tenant. Implementations: capability tokens (`CapabilityTokenAuthenticator`); JWT and API keys plug in
 * here too. Must not throw; a rejected promise is treated as a 401 with a generic message.
 */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<AuthResult>;
}
