/**
 * Who may answer a thread's server requests, read off the `tm-w` header (`EventHeader.Answerers`) of its
 * requests and access changes: a JSON array of user ids where `null` stands for the tenant's user-less
 * credentials. Undefined when the header is absent (every follower); a malformed header names nobody.
 */
export function parseAnswerers(header: string | undefined): ReadonlySet<string | null> | undefined {
  if (header === undefined) return undefined;
  try {
    const users: unknown = JSON.parse(header);
    return new Set(Array.isArray(users) ? users.filter((u): u is string | null => u === null || typeof u === "string") : []);
  } catch {
    return new Set();
  }
}
