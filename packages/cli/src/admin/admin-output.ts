import { formatCredits } from "@threadmesh/ratelimit";

/** A table for people: a header row, aligned columns, "—" for empty cells. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean>>): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => (c === "" ? "—" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

/** Micro-credits (an int64 string) as credits. */
export function credits(micro: string | number | undefined): string {
  return formatCredits(Number(micro ?? 0));
}

/** Unix ms (an int64 string) as an ISO time; "" for 0. */
export function time(ms: string | number | undefined): string {
  const n = Number(ms ?? 0);
  return n === 0 ? "" : new Date(n).toISOString();
}
