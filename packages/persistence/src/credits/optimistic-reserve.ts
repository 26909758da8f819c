import { sql, type Kysely } from "kysely";
import { PreparedStatement } from "../prepared-statement.ts";
import { decide, type FundingState, type ReservationParts, type ReserveRequest } from "@threadmesh/ratelimit";
import type { CreditTables } from "./credit-tables.ts";
import { currentWindowStarts, fundingColumns, fundingOf, writeAtVersion, type FundingRow } from "./optimistic-funding.ts";

/** What one optimistic attempt gives: a result, or the reason to try again / take the locking path. */
export type OptimisticOutcome =
  | { kind: "done"; decision: ReturnType<typeof decide>; parts: ReservationParts | null; funding: FundingState }
  | { kind: "conflict" }
  | { kind: "locking" };

interface StateRow extends FundingRow {
  tenant_active: number | string;
  user_active: number | string;
  existing: boolean;
  stale: boolean;
}

/**
 * Admission in two statements on PostgreSQL instead of a locking transaction of a dozen: one SELECT
 * reads everything stages 2–5 decide on (balance row and its version, current windows, live grants,
 * slot counts), `decide` runs in memory, and one statement of data-modifying CTEs writes the
 * reservation — only if the balance row's version is still the one read (every other change of the
 * tenant's credits bumps it, and a concurrent writer of the row makes PostgreSQL re-check the condition
 * after it commits). A changed version writes nothing: the caller reads again. The locking path stays
 * for what this one does not handle: a tenant without a balance row, a key already reserved, held
 * reservations or slots past their expiry (the locking path cleans them up).
 */
type ReadParam = "tenantId" | "turnId" | "userId" | "key" | "nowMs" | "primaryStart" | "secondaryStart";
type WriteParam = "tenantId" | "version" | "balancePart" | "key" | "amount" | "parts" | "nowMs" | "expiresAtMs" | "turnId" | "userId" | "slotExpiresAtMs" | "grants" | "windowPart" | "windows";

/** The two statements, prepared once per store (named server-side statements: parsed and planned once per connection). */
export class OptimisticReserveStatements {
  readonly read: PreparedStatement<ReadParam>;
  readonly write: PreparedStatement<WriteParam>;

  constructor(db: Kysely<CreditTables>) {
    this.read = new PreparedStatement<ReadParam>((p) => ({
      compile: () =>
        sql`
    select ${fundingColumns(p)},
      (select count(*) from turn_slots s
        where s.tenant_id = b.tenant_id and s.turn_id <> ${p("turnId")}::text and s.expires_at_ms > ${p("nowMs")}::bigint) as tenant_active,
      (select count(*) from turn_slots s
        where s.tenant_id = b.tenant_id and s.turn_id <> ${p("turnId")}::text and s.user_id = ${p("userId")}::text and s.expires_at_ms > ${p("nowMs")}::bigint) as user_active,
      exists (select 1 from credit_reservations r where r.tenant_id = b.tenant_id and r.key = ${p("key")}::text) as existing,
      (exists (select 1 from credit_reservations r where r.tenant_id = b.tenant_id and r.state = 'held' and r.expires_at_ms <= ${p("nowMs")}::bigint)
        or exists (select 1 from turn_slots s where s.tenant_id = b.tenant_id and s.expires_at_ms <= ${p("nowMs")}::bigint)) as stale
    from credit_balances b
    where b.tenant_id = ${p("tenantId")}::text`.compile(db),
    }));
    this.write = new PreparedStatement<WriteParam>((p) => ({
      compile: () =>
        sql`
      with v as (
        update credit_balances set version = version + 1, reserved = reserved + ${p("balancePart")}::bigint
         where tenant_id = ${p("tenantId")}::text and version = ${p("version")}::bigint
        returning tenant_id),
      r as (
        insert into credit_reservations (key, tenant_id, amount, parts, state, created_at_ms, expires_at_ms)
        select ${p("key")}::text, v.tenant_id, ${p("amount")}::bigint, ${p("parts")}::text, 'held', ${p("nowMs")}::bigint, ${p("expiresAtMs")}::bigint from v
        returning 1),
      s as (
        insert into turn_slots (tenant_id, turn_id, user_id, expires_at_ms)
        select v.tenant_id, ${p("turnId")}::text, ${p("userId")}::text, ${p("slotExpiresAtMs")}::bigint from v
        on conflict (tenant_id, turn_id) do update set expires_at_ms = excluded.expires_at_ms
        returning 1),
      g as (
        update credit_grants cg set reserved = cg.reserved + x.amount
          from v, json_to_recordset(${p("grants")}::json) as x(id text, amount bigint)
         where cg.tenant_id = v.tenant_id and cg.id = x.id
        returning 1),
      w as (
        insert into credit_windows (tenant_id, kind, start_ms, used, reserved)
        select v.tenant_id, x.kind, x.start_ms, 0, ${p("windowPart")}::bigint
          from v, json_to_recordset(${p("windows")}::json) as x(kind text, start_ms bigint)
        on conflict (tenant_id, kind, start_ms) do update set reserved = credit_windows.reserved + excluded.reserved
        returning 1)
      select (select count(*) from v) as ok`.compile(db),
    }));
  }
}

export async function reserveOptimistically(db: Kysely<CreditTables>, statements: OptimisticReserveStatements, req: ReserveRequest, key: string): Promise<OptimisticOutcome> {
  const { plan, nowMs, tenantId } = req;
  const read = await statements.read.execute(db, { tenantId, turnId: req.turnId, userId: req.userId, key, nowMs, ...currentWindowStarts(plan, nowMs) });
  const row = read.rows[0] as StateRow | undefined;
  if (row === undefined || row.existing || row.stale) return { kind: "locking" };

  const funding: FundingState = fundingOf(row, plan);
  const decision = decide({
    amount: req.amount,
    newTurn: req.newTurn,
    member: req.member,
    concurrency: { tenantActive: Number(row.tenant_active), userActive: Number(row.user_active) },
    funding,
    nowMs,
  });
  if (decision.kind === "refuse") return { kind: "done", decision, parts: null, funding };

  const { shortfall: _shortfall, ...parts } = decision.allocation;
  const windowRows = parts.window === 0 ? [] : [["primary", parts.primaryStartMs], ["secondary", parts.secondaryStartMs]].filter(([, s]) => s !== null).map(([kind, start]) => ({ kind, start_ms: start }));
  const grantRows = parts.grants.map((g) => ({ id: g.grantId, amount: g.amount }));
  // A key reserved in between (unique violation) takes the locking path, which finds that reservation.
  const written = await writeAtVersion(() =>
    statements.write.execute(db, {
      tenantId,
      version: Number(row.version),
      balancePart: parts.balance,
      key,
      amount: req.amount,
      parts: JSON.stringify(parts),
      nowMs,
      expiresAtMs: nowMs + req.reservationTtlMs,
      turnId: req.turnId,
      userId: req.userId,
      slotExpiresAtMs: nowMs + req.slotTtlMs,
      grants: JSON.stringify(grantRows),
      windowPart: parts.window,
      windows: JSON.stringify(windowRows),
    }),
  );
  if (written !== "written") return { kind: written };
  return { kind: "done", decision, parts, funding };
}
