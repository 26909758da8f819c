import type { ThreadRecord } from "@threadmesh/persistence";

type Settings = ThreadRecord["settings"];

/**
 * True when two thread settings hold the same values. Strings (instructions of up to megabytes among
 * them) compare by value; nested values (sandbox policy, dynamic tools) compare by reference first,
 * then by their JSON.
 */
export function sameSettings(a: Settings, b: Settings): boolean {
  if (a === b) return true;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    const u = x[k];
    const v = y[k];
    if (u === v) continue;
    if (typeof u !== "object" || typeof v !== "object" || u === null || v === null) return false;
    if (JSON.stringify(u) !== JSON.stringify(v)) return false;
  }
  return true;
}

/** A copy to compare later settings with: strings shared, nested values copied (they may change in place). */
export function settingsSnapshot(s: Settings): Settings {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) copy[k] = typeof v === "object" && v !== null ? structuredClone(v) : v;
  return copy as unknown as Settings;
}
