import { sql, type Kysely } from "kysely";
import { allocate, costAt, type FundingState, type ReservationParts, type SettleRequest, type SettleResult, type WindowUsage } from "@threadmesh/ratelimit";
import { PreparedStatement } from "../prepared-statement.ts";
import type { CreditTables } from "./credit-tables.ts";
import { currentWindowStarts, fundingColumns, fundingOf, writeAtVersion, type FundingRow } from "./optimistic-funding.ts";

export type OptimisticSettleOutcome = { kind: "done"; result: SettleResult } | { kind: "conflict" } | { kind: "locking" };

interface SettleStateRow extends FundingRow {
  reservation: { parts: string; state: string } | null;
  duplicate: boolean;
}

type ReadParam = "tenantId" | "key" | "nowMs" | "primaryStart" | "secondaryStart";
type WriteParam =
  | "tenantId"
  | "version"
  | "fromBalance"
  | "releasedBalance"
  | "nowMs"
  | "key"
  | "userId"
  | "turnId"
  | "round"
  | "model"
  | "inputTokens"
  | "cachedInputTokens"
  | "outputTokens"
  | "inputPrice"
  | "cachedInputPrice"
  | "outputPrice"
  | "cost"
  | "fromWindow"
  | "primaryStart"
  | "secondaryStart"
  | "fromGrants"
  | "uncollected"
  | "releaseReservation"
  | "grants"
  | "windows"
  | "updates";

/** The settlement's two statements, prepared once per store. */
export class OptimisticSettleStatements {
  readonly read: PreparedStatement<ReadParam>;
  readonly write: PreparedStatement<WriteParam>;

  constructor(db: Kysely<CreditTables>) {
    this.read = new PreparedStatement<ReadParam>((p) => ({
      compile: () =>
        sql`
    select ${fundingColumns(p)},
      (select json_build_object('parts', r.parts, 'state', r.state) from credit_reservations r where r.tenant_id = b.tenant_id and r.key = ${p("key")}::text) as reservation,
      exists (select 1 from usage_events u where u.tenant_id = b.tenant_id and u.idempotency_key = ${p("key")}::text) as duplicate
    from credit_balances b
    where b.tenant_id = ${p("tenantId")}::text`.compile(db),
    }));
    this.write = new PreparedStatement<WriteParam>((p) => ({
      compile: () =>
        sql`
      with v as (
        update credit_balances
           set version = version + 1, balance = balance - ${p("fromBalance")}::bigint, reserved = reserved - ${p("releasedBalance")}::bigint, updated_at_ms = ${p("nowMs")}::bigint
         where tenant_id = ${p("tenantId")}::text and version = ${p("version")}::bigint
        returning tenant_id),
      u as (
        insert into usage_events (idempotency_key, tenant_id, user_id, turn_id, round, model, input_tokens, cached_input_tokens, output_tokens, created_at_ms)
        select ${p("key")}::text, v.tenant_id, ${p("userId")}::text, ${p("turnId")}::text, ${p("round")}::integer, ${p("model")}::text,
               ${p("inputTokens")}::bigint, ${p("cachedInputTokens")}::bigint, ${p("outputTokens")}::bigint, ${p("nowMs")}::bigint
          from v
        returning tenant_id),
      b as (
        insert into billable_events (idempotency_key, tenant_id, user_id, model, input_price, cached_input_price, output_price, cost, from_window,
                                     primary_start_ms, secondary_start_ms, from_grants, from_balance, uncollected, created_at_ms)
        select ${p("key")}::text, u.tenant_id, ${p("userId")}::text, ${p("model")}::text, ${p("inputPrice")}::bigint, ${p("cachedInputPrice")}::bigint,
               ${p("outputPrice")}::bigint, ${p("cost")}::bigint, ${p("fromWindow")}::bigint, ${p("primaryStart")}::bigint, ${p("secondaryStart")}::bigint,
               ${p("fromGrants")}::bigint, ${p("fromBalance")}::bigint, ${p("uncollected")}::bigint, ${p("nowMs")}::bigint
          from u
        returning 1),
      r as (
        update credit_reservations cr set state = 'settled'
          from u
         where cr.tenant_id = u.tenant_id and cr.key = ${p("key")}::text and ${p("releaseReservation")}::boolean
        returning 1),
      g as (
        update credit_grants cg set remaining = cg.remaining - x.spend, reserved = cg.reserved - x.released
          from u, json_to_recordset(${p("grants")}::json) as x(id text, spend bigint, released bigint)
         where cg.tenant_id = u.tenant_id and cg.id = x.id
        returning 1),
      w as (
        insert into credit_windows (tenant_id, kind, start_ms, used, reserved)
        select u.tenant_id, x.kind, x.start_ms, x.used, x.reserved
          from u, json_to_recordset(${p("windows")}::json) as x(kind text, start_ms bigint, used bigint, reserved bigint)
        on conflict (tenant_id, kind, start_ms) do update set used = credit_windows.used + excluded.used, reserved = credit_windows.reserved + excluded.reserved
        returning 1),
      bu as (
        insert into balance_updates (idempotency_key, tenant_id, account, kind, amount, created_at_ms)
        select x.key, u.tenant_id, x.account, 'settlement', x.amount, ${p("nowMs")}::bigint
          from u, json_to_recordset(${p("updates")}::json) as x(key text, account text, amount bigint)
        returning 1)
      select (select count(*) from v) as ok`.compile(db),
    }));
  }
}

/**
 * Settlement in two statements on PostgreSQL, as `reserveOptimistically` admits: one read (balance row
 * and version, current windows, live grants, the round's reservation, whether the key was settled),
 * the allocation in memory, and one write of every change, conditional on the version. Every settlement
 * bumps the version, so a concurrent settlement of the same key makes this write find nothing to update
 * and the next read sees the key settled; and should a usage event with the key exist anyway, its
 * unique key fails the whole statement, which writes nothing. A key already settled, or a tenant
 * without a balance row, takes the locking path.
 */
export async function settleOptimistically(db: Kysely<CreditTables>, statements: OptimisticSettleStatements, req: SettleRequest, key: string): Promise<OptimisticSettleOutcome> {
  const { plan, nowMs, tenantId } = req;
  const read = await statements.read.execute(db, { tenantId, key, nowMs, ...currentWindowStarts(plan, nowMs) });
  const row = read.rows[0] as SettleStateRow | undefined;
  if (row === undefined || row.duplicate) return { kind: "locking" };

  const held = row.reservation !== null && row.reservation.state === "held" ? (JSON.parse(row.reservation.parts) as ReservationParts) : null;
  // The tenant's funding once this round's reservation is given back.
  const { windows, grants, balance } = fundingOf(row, plan);
  if (held !== null) {
    balance.reserved -= held.balance;
    for (const part of held.grants) {
      const g = grants.find((x) => x.id === part.grantId);
      if (g !== undefined) g.reserved -= part.amount;
    }
    for (const kind of ["primary", "secondary"] as const) {
      const w = windows[kind];
      const start = kind === "primary" ? held.primaryStartMs : held.secondaryStartMs;
      if (w !== null && start === w.startMs) w.reserved -= held.window;
    }
  }
  const released: FundingState = { plan, windows, grants, balance };
  const cost = costAt(req.price, req.usage);
  const a = allocate(cost, released, nowMs);
  const fromGrants = a.grants.reduce((s, g) => s + g.amount, 0);

  // Per grant: what this settlement spends and what the reservation held on it.
  const grantDeltas = new Map<string, { spend: number; released: number }>();
  for (const g of a.grants) grantDeltas.set(g.grantId, { spend: g.amount, released: 0 });
  for (const g of held?.grants ?? []) {
    const d = grantDeltas.get(g.grantId) ?? { spend: 0, released: 0 };
    d.released += g.amount;
    grantDeltas.set(g.grantId, d);
  }
  // Per window row: usage counted now (current windows) less what the reservation held (its windows).
  const windowDeltas = new Map<string, { kind: string; start_ms: number; used: number; reserved: number }>();
  const addWindow = (kind: string, start: number | null, field: "used" | "reserved", amount: number): void => {
    if (start === null || amount === 0) return;
    const k = `${kind}@${start}`;
    const d = windowDeltas.get(k) ?? { kind, start_ms: start, used: 0, reserved: 0 };
    d[field] += amount;
    windowDeltas.set(k, d);
  };
  addWindow("primary", a.primaryStartMs, "used", a.window);
  addWindow("secondary", a.secondaryStartMs, "used", a.window);
  if (held !== null) {
    addWindow("primary", held.primaryStartMs, "reserved", -held.window);
    addWindow("secondary", held.secondaryStartMs, "reserved", -held.window);
  }
  const updates = [
    ...a.grants.map((g) => ({ key: `${key}/grant:${g.grantId}`, account: `grant:${g.grantId}`, amount: -g.amount })),
    ...(a.balance > 0 ? [{ key: `${key}/balance`, account: "balance", amount: -a.balance }] : []),
  ];
  // Settled in between after all (the usage event's unique key): the locking path reports the duplicate.
  const written = await writeAtVersion(() =>
    statements.write.execute(db, {
      tenantId,
      version: Number(row.version),
      fromBalance: a.balance,
      releasedBalance: held?.balance ?? 0,
      nowMs,
      key,
      userId: req.userId,
      turnId: req.turnId,
      round: req.round,
      model: req.model,
      inputTokens: req.usage.inputTokens,
      cachedInputTokens: req.usage.cachedInputTokens,
      outputTokens: req.usage.outputTokens,
      inputPrice: req.price.inputPerMillion,
      cachedInputPrice: req.price.cachedInputPerMillion,
      outputPrice: req.price.outputPerMillion,
      cost,
      fromWindow: a.window,
      primaryStart: a.primaryStartMs,
      secondaryStart: a.secondaryStartMs,
      fromGrants,
      uncollected: a.shortfall,
      releaseReservation: row.reservation !== null,
      grants: JSON.stringify([...grantDeltas].map(([id, d]) => ({ id, ...d }))),
      windows: JSON.stringify([...windowDeltas.values()]),
      updates: JSON.stringify(updates),
    }),
  );
  if (written !== "written") return { kind: written };
  // The state after: the reservation given back and the charge applied.
  const after: FundingState = {
    plan,
    windows: {
      primary: applyUsed(released.windows.primary, a.primaryStartMs, a.window),
      secondary: applyUsed(released.windows.secondary, a.secondaryStartMs, a.window),
    },
    grants: released.grants.map((g) => ({ ...g, remaining: g.remaining - (a.grants.find((x) => x.grantId === g.id)?.amount ?? 0) })),
    balance: { balance: released.balance.balance - a.balance, reserved: released.balance.reserved },
  };
  return { kind: "done", result: { duplicate: false, cost, window: a.window, grants: a.grants, balance: a.balance, uncollected: a.shortfall, state: after } };
}

function applyUsed(w: WindowUsage | null, startMs: number | null, amount: number): WindowUsage | null {
  if (startMs === null || amount === 0) return w;
  return { startMs, used: (w?.startMs === startMs ? w.used : 0) + amount, reserved: w?.startMs === startMs ? w.reserved : 0 };
}
