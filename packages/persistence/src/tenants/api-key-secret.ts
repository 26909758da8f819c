import { createHash, randomBytes } from "node:crypto";

/** Every API key starts with this; routers recognise keys by it. */
export const API_KEY_PREFIX = "tm_live_";
/** `tm_live_<8 hex>_<43 base64url chars>`: visible part, then 256 random bits. */
const API_KEY = /^tm_live_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** A fresh key: the whole secret, its visible prefix and the hash the store keeps. */
export function generateApiKey(): { secret: string; prefix: string; hash: string } {
  const visible = randomBytes(4).toString("hex");
  const prefix = `${API_KEY_PREFIX}${visible}`;
  const secret = `${prefix}_${randomBytes(32).toString("base64url")}`;
  return { secret, prefix, hash: hashApiKey(secret) };
}

/** True when `s` has the shape of an API key (it may still be unknown). */
export function isApiKeyShaped(s: string): boolean {
  return API_KEY.test(s);
}

/**
 * Hex SHA-256 of the whole key. A fast unsalted hash is enough here, unlike for passwords: the secret
 * is 256 random bits, so neither a dictionary nor brute force over the hash can find it, and a fast
 * hash lets the lookup be one indexed equality on the hash column instead of a slow KDF per attempt.
 */
export function hashApiKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
