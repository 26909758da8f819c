/** Where a store lives, parsed from its URL. */
export type StoreLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/**
 * Accepts `sqlite:<path>` (relative to the working directory; `sqlite:///abs` also works),
 * `sqlite::memory:`, and `postgres://…` / `postgresql://…`.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return { kind: "postgres", url };
  if (url.startsWith("sqlite:")) {
    let path = url.slice("sqlite:".length);
    if (path.startsWith("//")) path = path.slice(2);
    if (path === "") throw new Error("store url sqlite: needs a path or :memory:");
    return { kind: "sqlite", path };
  }
  // Only the scheme is echoed: the rest may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? "(none)";
  throw new Error(`unsupported store url scheme ${scheme}; use sqlite:<path>, sqlite::memory: or postgres://`);
}
