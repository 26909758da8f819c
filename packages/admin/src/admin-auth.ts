import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";

/** How the admin server knows its callers: a bearer token, a client certificate (mTLS), or both. */
export interface AdminAuthOptions {
  /** Callers send `authorization: Bearer <token>`; null: no token (then mTLS must be on). */
  token: string | null;
  tls?: AdminTlsFiles | null;
}

/** PEM file paths. With `clientCa` the server asks every client for a certificate signed by it. */
export interface AdminTlsFiles {
  cert: string;
  key: string;
  clientCa?: string | null;
}

/** Constant-time comparison of a presented bearer token with the admin token (both hashed first, so lengths leak nothing). */
export function bearerTokenMatches(metadata: grpc.Metadata, token: string): boolean {
  const header = metadata.get("authorization")[0];
  if (typeof header !== "string") return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const a = createHash("sha256").update(m[1]!, "utf8").digest();
  const b = createHash("sha256").update(token, "utf8").digest();
  return timingSafeEqual(a, b);
}

/** Server credentials: TLS (with client certificates required when a client CA is given) or insecure. */
export function serverCredentials(tls: AdminTlsFiles | null | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCa ? readFileSync(tls.clientCa) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], ca !== null);
}

/** Client credentials: TLS verifying the server against `ca` (system roots when absent), with a client certificate for mTLS. */
export function clientCredentials(tls: { ca?: string | null; cert?: string | null; key?: string | null } | null | undefined): grpc.ChannelCredentials {
  if (!tls || (!tls.ca && !tls.cert)) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca ? readFileSync(tls.ca) : null, tls.key ? readFileSync(tls.key) : null, tls.cert ? readFileSync(tls.cert) : null);
}
