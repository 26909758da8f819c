/** Visible ASCII, space and tab: what a header value may hold for the bearer scheme. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const BEARER = /^bearer(?:[ \t]+(.*))?$/is;

/**
 * `Authorization: Bearer <token>`: the scheme matched case-insensitively, the token trimmed.
 * `missing` without a header, `malformed` for another scheme, an empty token or bytes a header may
 * not hold.
 */
export function parseBearer(header: string | undefined): { kind: "missing" } | { kind: "malformed" } | { kind: "token"; token: string } {
  if (header === undefined) return { kind: "missing" };
  if (!HEADER_VALUE.test(header)) return { kind: "malformed" };
  const token = BEARER.exec(header.trim())?.[1]?.trim();
  if (token === undefined || token.length === 0) return { kind: "malformed" };
  return { kind: "token", token };
}

/** Three base64url segments: the compact serialisation of a JWS. */
export function isJwtShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
