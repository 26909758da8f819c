import { sql, type QueryResult, type RawBuilder } from "kysely";
import { windowStart, type FundingState, type GrantState, type Plan, type WindowUsage } from "@threadmesh/ratelimit";

/** The balance row's columns and the funding beside it, as both optimistic reads select them. */
export interface FundingRow {
  balance: number | string;
  reserved: number | string;
  version: number | string;
  windows: Array<{ kind: string; start: number; used: number; reserved: number }>;
  grants: GrantState[];
}

/**
 * The select list of {@link FundingRow} over `credit_balances b`: balance, reserved and version, the
 * tenant's windows starting at `primaryStart` / `secondaryStart`, and its grants live at `nowMs`.
 */
export function fundingColumns(p: (name: "primaryStart" | "secondaryStart" | "nowMs") => never): RawBuilder<unknown> {
  return sql`b.balance, b.reserved, b.version,
      (select coalesce(json_agg(json_build_object('kind', w.kind, 'start', w.start_ms, 'used', w.used, 'reserved', w.reserved)), '[]'::json)
         from credit_windows w
        where w.tenant_id = b.tenant_id
          and ((w.kind = 'primary' and w.start_ms = ${p("primaryStart")}::bigint) or (w.kind = 'secondary' and w.start_ms = ${p("secondaryStart")}::bigint))) as windows,
      (select coalesce(json_agg(json_build_object('id', g.id, 'remaining', g.remaining, 'reserved', g.reserved, 'expiresAtMs', g.expires_at_ms) order by g.expires_at_ms, g.id), '[]'::json)
         from credit_grants g
        where g.tenant_id = b.tenant_id and g.expires_at_ms > ${p("nowMs")}::bigint and g.remaining > 0) as grants`;
}

/** The starts of the plan's current windows at `nowMs` (null for a window the plan does not have). */
export function currentWindowStarts(plan: Plan, nowMs: number): { primaryStart: number | null; secondaryStart: number | null } {
  return {
    primaryStart: plan.primary === null ? null : windowStart(nowMs, plan.primary.windowMins),
    secondaryStart: plan.secondary === null ? null : windowStart(nowMs, plan.secondary.windowMins),
  };
}

/** The funding a {@link FundingRow} reads, with numbers for PostgreSQL's bigint strings. */
export function fundingOf(row: FundingRow, plan: Plan): FundingState {
  const windows: Record<"primary" | "secondary", WindowUsage | null> = { primary: null, secondary: null };
  for (const w of row.windows) windows[w.kind === "primary" ? "primary" : "secondary"] = { startMs: Number(w.start), used: Number(w.used), reserved: Number(w.reserved) };
  return {
    plan,
    windows,
    grants: row.grants.map((g) => ({ id: g.id, remaining: Number(g.remaining), reserved: Number(g.reserved), expiresAtMs: Number(g.expiresAtMs) })),
    balance: { balance: Number(row.balance), reserved: Number(row.reserved) },
  };
}

/**
 * Runs a write that changes nothing unless the balance row's version is still the one read (its
 * `ok` column counts the rows updated): "conflict" when the version moved, "locking" when a unique key
 * was taken in between (the locking path finds what took it).
 */
export async function writeAtVersion(write: () => Promise<QueryResult<unknown>>): Promise<"written" | "conflict" | "locking"> {
  try {
    const written = await write();
    if (Number((written.rows[0] as { ok?: number | string } | undefined)?.ok ?? 0) === 0) return "conflict";
  } catch (err) {
    if ((err as { code?: string }).code === "23505") return "locking";
    throw err;
  }
  return "written";
}
