import type { Principal } from "./authenticator.ts";

/** The scope that lets a user of a tenant see and act on every thread of the tenant. */
export const ADMIN_SCOPE = "admin";

/**
 * A principal without a user (operator token, loopback dev mode, a key without an owner) is the tenant's
 * administrator; a user is one when its credential holds {@link ADMIN_SCOPE}.
 */
export function principalIsAdmin(p: Principal): boolean {
  return p.user === undefined || (p.scopes?.includes(ADMIN_SCOPE) ?? false);
}

/**
 * The users named by a broadcast's audience header (a JSON array of user ids); undefined when the header
 * is absent (every connection of the tenant); a malformed header names nobody.
 */
export function parseAudience(header: string | undefined): ReadonlySet<string> | undefined {
  if (header === undefined) return undefined;
  try {
    const users: unknown = JSON.parse(header);
    return new Set(Array.isArray(users) ? users.filter((u): u is string => typeof u === "string") : []);
  } catch {
    return new Set();
  }
}
