import { sql, type InsertQueryBuilder, type InsertResult, type Kysely, type Transaction } from "kysely";
import {
  allocate,
  assertMicro,
  costAt,
  decide,
  held,
  parsePlan,
  spent,
  windowStart,
  withParts,
  type BalanceState,
  type CreditStore,
  type FundingState,
  type GrantState,
  type MicroCredits,
  type Plan,
  type ReconcileReport,
  type Reservation,
  type ReservationParts,
  type ReserveRequest,
  type ReserveResult,
  type SettleRequest,
  type SettleResult,
  type TurnSlot,
  type WindowUsage,
} from "@threadmesh/ratelimit";
import type { CreditTables } from "./credit-tables.ts";
import { planToRow, rowToPlan } from "./plan-rows.ts";
import { OptimisticReserveStatements, reserveOptimistically } from "./optimistic-reserve.ts";
import { OptimisticSettleStatements, settleOptimistically } from "./optimistic-settle.ts";
import { reconcileTenants } from "./reconcile.ts";

/** Optimistic reservations tried on PostgreSQL before taking the tenant's row lock. */
const OPTIMISTIC_ATTEMPTS = 3;

type Db = Kysely<CreditTables>;
type Trx = Transaction<CreditTables>;

export interface KyselyCreditStoreOptions {
  /** A database migrated to at least `0005-credits`. */
  db: Kysely<any>;
  /** On `postgres`, admissions try the two-statement optimistic path first (see `optimistic-reserve.ts`). */
  kind: "sqlite" | "postgres";
  /** Destroy `db` on `close()`. Default false. */
  ownsDb?: boolean;
}

/**
 * {@link CreditStore} over kysely, SQLite and PostgreSQL alike. Every change of a tenant's credits is one
 * transaction that first takes the tenant's balance row and bumps its version (an `UPDATE … RETURNING`:
 * a row lock on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises writers anyway), so admissions and
 * settlements of one tenant run one at a time and read what the previous one wrote. On PostgreSQL an
 * admission first tries two statements conditional on that version (`optimistic-reserve.ts`). Settlement inserts its usage event with `ON CONFLICT DO NOTHING`
 * first: a key already settled (a replay, or another host after a failover) inserts nothing and the
 * transaction changes nothing else.
 */
export class KyselyCreditStore implements CreditStore {
  readonly #db: Db;
  readonly #kind: "sqlite" | "postgres";
  readonly #ownsDb: boolean;
  readonly #optimistic: OptimisticReserveStatements | null;
  readonly #optimisticSettle: OptimisticSettleStatements | null;

  constructor(opts: KyselyCreditStoreOptions) {
    this.#db = opts.db as Db;
    this.#kind = opts.kind;
    this.#ownsDb = opts.ownsDb ?? false;
    this.#optimistic = opts.kind === "postgres" ? new OptimisticReserveStatements(this.#db) : null;
    this.#optimisticSettle = opts.kind === "postgres" ? new OptimisticSettleStatements(this.#db) : null;
  }

  // --- plans -------------------------------------------------------------------------------------

  async putPlan(plan: Plan): Promise<void> {
    const row = planToRow(parsePlan(plan), Date.now());
    const { id: _id, ...rest } = row;
    await this.#db.insertInto("plans").values(row).onConflict((oc) => oc.column("id").doUpdateSet(rest)).execute();
  }

  async getPlan(id: string): Promise<Plan | null> {
    const row = await this.#db.selectFrom("plans").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? null : rowToPlan(row);
  }

  async listPlans(): Promise<Plan[]> {
    const rows = await this.#db.selectFrom("plans").selectAll().orderBy("id").execute();
    return rows.map(rowToPlan);
  }

  // --- money in ----------------------------------------------------------------------------------

  async topUp(tenantId: string, amount: MicroCredits, key: string, nowMs: number): Promise<boolean> {
    assertMicro(amount, "top-up amount", true);
    return this.#db.transaction().execute(async (trx) => {
      const balance = await this.#lockTenant(trx, tenantId, nowMs);
      if (amount < 0 && balance.balance + amount < balance.reserved) {
        throw new RangeError(`cannot take back ${-amount} micro-credits: the tenant holds ${balance.balance - balance.reserved} beyond its reservations`);
      }
      const inserted = await insertIgnore(
        trx.insertInto("balance_updates").values({ idempotency_key: `${tenantId}/topUp/${key}`, tenant_id: tenantId, account: "balance", kind: "topUp", amount, created_at_ms: nowMs }),
      );
      if (!inserted) return false;
      await trx.updateTable("credit_balances").set({ balance: sql`balance + ${amount}`, updated_at_ms: nowMs }).where("tenant_id", "=", tenantId).execute();
      return true;
    });
  }

  async addGrant(tenantId: string, grant: { id: string; amount: MicroCredits; expiresAtMs: number }, nowMs: number): Promise<boolean> {
    assertMicro(grant.amount, "grant amount");
    if (!Number.isSafeInteger(grant.expiresAtMs)) throw new RangeError("grant expiry must be a time in Unix milliseconds");
    return this.#db.transaction().execute(async (trx) => {
      await this.#lockTenant(trx, tenantId, nowMs);
      const inserted = await insertIgnore(
        trx.insertInto("credit_grants").values({
          tenant_id: tenantId,
          id: grant.id,
          amount: grant.amount,
          remaining: grant.amount,
          reserved: 0,
          expires_at_ms: grant.expiresAtMs,
          created_at_ms: nowMs,
        }),
      );
      if (!inserted) return false;
      await trx
        .insertInto("balance_updates")
        .values({ idempotency_key: `${tenantId}/grant/${grant.id}`, tenant_id: tenantId, account: `grant:${grant.id}`, kind: "grant", amount: grant.amount, created_at_ms: nowMs })
        .execute();
      return true;
    });
  }

  // --- admission ---------------------------------------------------------------------------------

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    assertMicro(req.amount, "reservation amount");
    const key = `${req.tenantId}/${req.key}`;
    if (this.#optimistic !== null && req.takeSlot !== false) {
      for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
        const o = await reserveOptimistically(this.#db, this.#optimistic, req, key);
        if (o.kind === "locking") break;
        if (o.kind === "conflict") continue;
        if (o.parts === null) return { decision: o.decision, reservation: null, state: o.funding };
        return { decision: o.decision, reservation: { key: req.key, tenantId: req.tenantId, amount: req.amount, parts: o.parts }, state: held(o.funding, o.parts) };
      }
    }
    return this.#db.transaction().execute(async (trx) => {
      const balance = await this.#lockTenant(trx, req.tenantId, req.nowMs);
      const existing = await trx.selectFrom("credit_reservations").select(["amount", "parts", "state"]).where("tenant_id", "=", req.tenantId).where("key", "=", key).executeTakeFirst();
      if (existing !== undefined) {
        // Reserving again (a retry, or the host admitting the round turn/start reserved) finds the same reservation.
        if (req.takeSlot !== false) await this.#putSlot(trx, req.tenantId, req.userId, req.turnId, req.nowMs + req.slotTtlMs);
        const parts = JSON.parse(existing.parts) as ReservationParts;
        const state = await this.#funding(trx, req.tenantId, req.plan, req.nowMs, balance);
        return { decision: { kind: "admit", allocation: { ...parts, shortfall: 0 } }, reservation: { key: req.key, tenantId: req.tenantId, amount: Number(existing.amount), parts }, state };
      }
      await this.#releaseExpired(trx, req.tenantId, req.nowMs, balance);
      const concurrency = req.newTurn ? await this.#slotCounts(trx, req.tenantId, req.userId, req.turnId, req.nowMs) : { tenantActive: 0, userActive: 0 };
      const funding = await this.#funding(trx, req.tenantId, req.plan, req.nowMs, balance);
      const decision = decide({ amount: req.amount, newTurn: req.newTurn, member: req.member, concurrency, funding, nowMs: req.nowMs });
      if (decision.kind === "refuse") return { decision, reservation: null, state: funding };
      if (req.takeSlot !== false) await this.#putSlot(trx, req.tenantId, req.userId, req.turnId, req.nowMs + req.slotTtlMs);
      const { shortfall: _shortfall, ...parts } = decision.allocation;
      await trx
        .insertInto("credit_reservations")
        .values({ key, tenant_id: req.tenantId, amount: req.amount, parts: JSON.stringify(parts), state: "held", created_at_ms: req.nowMs, expires_at_ms: req.nowMs + req.reservationTtlMs })
        .execute();
      await this.#hold(trx, req.tenantId, parts, 1);
      const reservation: Reservation = { key: req.key, tenantId: req.tenantId, amount: req.amount, parts };
      return { decision, reservation, state: held(funding, parts) };
    });
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    const key = `${req.tenantId}/${req.key}`;
    if (req.slice !== undefined) return this.#settleFromSlice(req, key, `${req.tenantId}/${req.slice}`);
    if (this.#optimisticSettle !== null) {
      for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
        const o = await settleOptimistically(this.#db, this.#optimisticSettle, req, key);
        if (o.kind === "locking") break;
        if (o.kind === "done") return o.result;
      }
    }
    return this.#db.transaction().execute(async (trx) => {
      let balance = await this.#lockTenant(trx, req.tenantId, req.nowMs);
      const first = await insertIgnore(
        trx.insertInto("usage_events").values({
          idempotency_key: key,
          tenant_id: req.tenantId,
          user_id: req.userId,
          turn_id: req.turnId,
          round: req.round,
          model: req.model,
          input_tokens: req.usage.inputTokens,
          cached_input_tokens: req.usage.cachedInputTokens,
          output_tokens: req.usage.outputTokens,
          created_at_ms: req.nowMs,
        }),
      );
      if (!first) {
        const state = await this.#funding(trx, req.tenantId, req.plan, req.nowMs, balance);
        return { duplicate: true, cost: 0, window: 0, grants: [], balance: 0, uncollected: 0, state };
      }
      const reservation = await trx.selectFrom("credit_reservations").select(["parts", "state"]).where("tenant_id", "=", req.tenantId).where("key", "=", key).executeTakeFirst();
      if (reservation !== undefined && reservation.state === "held") {
        const parts = JSON.parse(reservation.parts) as ReservationParts;
        await this.#hold(trx, req.tenantId, parts, -1);
        balance = { ...balance, reserved: balance.reserved - parts.balance };
      }
      if (reservation !== undefined) await trx.updateTable("credit_reservations").set({ state: "settled" }).where("tenant_id", "=", req.tenantId).where("key", "=", key).execute();
      const funding = await this.#funding(trx, req.tenantId, req.plan, req.nowMs, balance);
      const cost = costAt(req.price, req.usage);
      const a = allocate(cost, funding, req.nowMs);
      await this.#writeCharge(trx, req, key, cost, a);
      const state = await this.#funding(trx, req.tenantId, req.plan, req.nowMs, { ...balance, balance: balance.balance - a.balance });
      return { duplicate: false, cost, window: a.window, grants: a.grants, balance: a.balance, uncollected: a.shortfall, state };
    });
  }

  /**
   * Settles a round admitted from a host's budget slice: the slice is given back for the charge, the
   * round charged through the waterfall, and what is left of the slice (its amount less the cost)
   * held again through the waterfall as it stands after the charge (an expired grant is not held again;
   * less when the sources no longer cover it). The funding is read once and followed in memory; the
   * slice's holds change by the difference of its parts.
   */
  async #settleFromSlice(req: SettleRequest, key: string, sliceKey: string): Promise<SettleResult> {
    return this.#db.transaction().execute(async (trx) => {
      const balance = await this.#lockTenant(trx, req.tenantId, req.nowMs);
      const slice = await trx.selectFrom("credit_reservations").select(["amount", "parts", "state"]).where("tenant_id", "=", req.tenantId).where("key", "=", sliceKey).executeTakeFirst();
      const held = slice !== undefined && slice.state === "held" ? { amount: Number(slice.amount), parts: JSON.parse(slice.parts) as ReservationParts } : null;
      const first = await insertIgnore(
        trx.insertInto("usage_events").values({
          idempotency_key: key,
          tenant_id: req.tenantId,
          user_id: req.userId,
          turn_id: req.turnId,
          round: req.round,
          model: req.model,
          input_tokens: req.usage.inputTokens,
          cached_input_tokens: req.usage.cachedInputTokens,
          output_tokens: req.usage.outputTokens,
          created_at_ms: req.nowMs,
        }),
      );
      const funding = await this.#funding(trx, req.tenantId, req.plan, req.nowMs, balance);
      if (!first) return { duplicate: true, cost: 0, window: 0, grants: [], balance: 0, uncollected: 0, state: funding, sliceAmount: held?.amount ?? 0 };
      const free = held === null ? funding : withParts(funding, held.parts, -1, req.nowMs);
      const cost = costAt(req.price, req.usage);
      const a = allocate(cost, free, req.nowMs);
      const charged = spent(free, a);
      await this.#writeCharge(trx, req, key, cost, a);
      if (held === null) return { duplicate: false, cost, window: a.window, grants: a.grants, balance: a.balance, uncollected: a.shortfall, state: charged, sliceAmount: 0 };
      const want = Math.max(0, held.amount - cost);
      const { shortfall, ...parts } = allocate(want, charged, req.nowMs);
      const sliceAmount = want - shortfall;
      await this.#holdChange(trx, req.tenantId, held.parts, parts);
      await trx
        .updateTable("credit_reservations")
        .set(sliceAmount > 0 ? { amount: sliceAmount, parts: JSON.stringify(parts) } : { amount: 0, parts: JSON.stringify(parts), state: "released" })
        .where("tenant_id", "=", req.tenantId)
        .where("key", "=", sliceKey)
        .execute();
      return { duplicate: false, cost, window: a.window, grants: a.grants, balance: a.balance, uncollected: a.shortfall, state: withParts(charged, parts, 1, req.nowMs), sliceAmount };
    });
  }

  /** Changes what a reservation holds from `from` to `to`, one statement per source that changed. */
  async #holdChange(trx: Trx, tenantId: string, from: ReservationParts, to: ReservationParts): Promise<void> {
    if (to.balance !== from.balance) {
      await trx.updateTable("credit_balances").set({ reserved: sql`reserved + ${to.balance - from.balance}` }).where("tenant_id", "=", tenantId).execute();
    }
    const grants = new Map<string, number>();
    for (const g of from.grants) grants.set(g.grantId, (grants.get(g.grantId) ?? 0) - g.amount);
    for (const g of to.grants) grants.set(g.grantId, (grants.get(g.grantId) ?? 0) + g.amount);
    for (const [id, change] of grants) {
      if (change !== 0) await trx.updateTable("credit_grants").set({ reserved: sql`reserved + ${change}` }).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    }
    if (from.primaryStartMs === to.primaryStartMs && from.secondaryStartMs === to.secondaryStartMs) {
      if (to.window !== from.window) await this.#addWindows(trx, tenantId, to.primaryStartMs, to.secondaryStartMs, "reserved", to.window - from.window);
    } else {
      if (from.window !== 0) await this.#addWindows(trx, tenantId, from.primaryStartMs, from.secondaryStartMs, "reserved", -from.window);
      if (to.window !== 0) await this.#addWindows(trx, tenantId, to.primaryStartMs, to.secondaryStartMs, "reserved", to.window);
    }
  }

  async release(tenantId: string, key: string): Promise<void> {
    const full = `${tenantId}/${key}`;
    await this.#db.transaction().execute(async (trx) => {
      await this.#lockTenant(trx, tenantId, Date.now());
      const r = await trx.selectFrom("credit_reservations").select(["parts", "state"]).where("tenant_id", "=", tenantId).where("key", "=", full).executeTakeFirst();
      if (r === undefined || r.state !== "held") return;
      await this.#hold(trx, tenantId, JSON.parse(r.parts) as ReservationParts, -1);
      await trx.updateTable("credit_reservations").set({ state: "released" }).where("tenant_id", "=", tenantId).where("key", "=", full).execute();
    });
  }

  async renewSlot(tenantId: string, userId: string, turnId: string, nowMs: number, ttlMs: number): Promise<void> {
    const renewed = await this.#db
      .updateTable("turn_slots")
      .set({ expires_at_ms: nowMs + ttlMs })
      .where("tenant_id", "=", tenantId)
      .where("turn_id", "=", turnId)
      .executeTakeFirst();
    if (renewed.numUpdatedRows > 0n) return;
    // The slot had lapsed or was cleaned up: taking it again changes the tenant's count, so it bumps the
    // version an optimistic admission checks.
    await this.#db.transaction().execute(async (trx) => {
      await this.#lockTenant(trx, tenantId, nowMs);
      await this.#putSlot(trx, tenantId, userId, turnId, nowMs + ttlMs);
    });
  }

  async moveSlot(tenantId: string, fromTurnId: string, toTurnId: string, expiresAtMs: number): Promise<boolean> {
    const moved = await this.#db
      .updateTable("turn_slots")
      .set({ turn_id: toTurnId, expires_at_ms: expiresAtMs })
      .where("tenant_id", "=", tenantId)
      .where("turn_id", "=", fromTurnId)
      .executeTakeFirst();
    return moved.numUpdatedRows > 0n;
  }

  async endTurn(tenantId: string, turnId: string): Promise<void> {
    await this.#db.deleteFrom("turn_slots").where("tenant_id", "=", tenantId).where("turn_id", "=", turnId).execute();
  }

  /** Turns running (a host's spare slots count against the limits but are no turn). */
  async activeTurns(tenantId: string, nowMs: number): Promise<number> {
    const r = await this.#db
      .selectFrom("turn_slots")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("tenant_id", "=", tenantId)
      .where("expires_at_ms", ">", nowMs)
      .where("turn_id", "not like", "spare/%")
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async slots(tenantId: string, nowMs: number): Promise<TurnSlot[]> {
    const rows = await this.#db.selectFrom("turn_slots").select(["turn_id", "user_id", "expires_at_ms"]).where("tenant_id", "=", tenantId).where("expires_at_ms", ">", nowMs).execute();
    return rows.map((r) => ({ turnId: r.turn_id, userId: r.user_id, expiresAtMs: Number(r.expires_at_ms) }));
  }

  async heldReservations(tenantId: string): Promise<Array<Reservation & { expiresAtMs: number }>> {
    const rows = await this.#db
      .selectFrom("credit_reservations")
      .select(["key", "amount", "parts", "expires_at_ms"])
      .where("tenant_id", "=", tenantId)
      .where("state", "=", "held")
      .execute();
    const prefix = `${tenantId}/`;
    return rows.map((r) => ({ key: r.key.slice(prefix.length), tenantId, amount: Number(r.amount), parts: JSON.parse(r.parts) as ReservationParts, expiresAtMs: Number(r.expires_at_ms) }));
  }

  async nextRound(tenantId: string, turnId: string): Promise<number> {
    const settled = await this.#db
      .selectFrom("usage_events")
      .select((eb) => eb.fn.max("round").as("last"))
      .where("tenant_id", "=", tenantId)
      .where("turn_id", "=", turnId)
      .executeTakeFirst();
    const held = await this.heldReservations(tenantId);
    const prefix = `${turnId}:`;
    const heldRounds = held.filter((r) => r.key.startsWith(prefix)).map((r) => Number(r.key.slice(prefix.length)));
    const afterSettled = settled?.last === null || settled?.last === undefined ? 0 : Number(settled.last) + 1;
    return Math.max(afterSettled, ...heldRounds.filter((r) => Number.isSafeInteger(r)));
  }

  async state(tenantId: string, plan: Plan, nowMs: number): Promise<FundingState> {
    const row = await this.#db.selectFrom("credit_balances").select(["balance", "reserved"]).where("tenant_id", "=", tenantId).executeTakeFirst();
    const balance = row === undefined ? { balance: 0, reserved: 0 } : { balance: Number(row.balance), reserved: Number(row.reserved) };
    return this.#funding(this.#db, tenantId, plan, nowMs, balance);
  }

  reconcile(tenantId?: string): Promise<ReconcileReport[]> {
    return reconcileTenants(this.#db, tenantId);
  }

  async close(): Promise<void> {
    if (this.#ownsDb) await this.#db.destroy();
  }

  // --- inside transactions ------------------------------------------------------------------------

  /**
   * Takes the tenant's balance row for the rest of the transaction, bumping its version (so a concurrent
   * optimistic reservation that read the row before fails its check), creating the row when missing.
   */
  async #lockTenant(trx: Trx, tenantId: string, nowMs: number): Promise<BalanceState> {
    const bump = () =>
      trx.updateTable("credit_balances").set({ version: sql`version + 1` }).where("tenant_id", "=", tenantId).returning(["balance", "reserved"]).executeTakeFirst();
    let row = await bump();
    if (row === undefined) {
      await trx
        .insertInto("credit_balances")
        .values({ tenant_id: tenantId, balance: 0, reserved: 0, version: 0, updated_at_ms: nowMs })
        .onConflict((oc) => oc.column("tenant_id").doNothing())
        .execute();
      row = await bump();
    }
    if (row === undefined) throw new Error(`credit balance row of ${tenantId} vanished`);
    return { balance: Number(row.balance), reserved: Number(row.reserved) };
  }

  /** Slots held by other turns of the tenant (and of the user) that have not expired; deletes expired ones. */
  async #slotCounts(trx: Trx, tenantId: string, userId: string, turnId: string, nowMs: number): Promise<{ tenantActive: number; userActive: number }> {
    const r = await trx
      .selectFrom("turn_slots")
      .select([
        sql<number>`coalesce(sum(case when expires_at_ms > ${nowMs} then 1 else 0 end), 0)`.as("tenant_active"),
        sql<number>`coalesce(sum(case when expires_at_ms > ${nowMs} and user_id = ${userId} then 1 else 0 end), 0)`.as("user_active"),
        sql<number>`coalesce(sum(case when expires_at_ms <= ${nowMs} then 1 else 0 end), 0)`.as("expired"),
      ])
      .where("tenant_id", "=", tenantId)
      .where("turn_id", "<>", turnId)
      .executeTakeFirstOrThrow();
    if (Number(r.expired) > 0) await trx.deleteFrom("turn_slots").where("tenant_id", "=", tenantId).where("expires_at_ms", "<=", nowMs).execute();
    return { tenantActive: Number(r.tenant_active), userActive: Number(r.user_active) };
  }

  async #putSlot(db: Db | Trx, tenantId: string, userId: string, turnId: string, expiresAtMs: number): Promise<void> {
    await db
      .insertInto("turn_slots")
      .values({ tenant_id: tenantId, turn_id: turnId, user_id: userId, expires_at_ms: expiresAtMs })
      .onConflict((oc) => oc.columns(["tenant_id", "turn_id"]).doUpdateSet({ expires_at_ms: expiresAtMs }))
      .execute();
  }

  /** Gives back held reservations of the tenant past their expiry (their host died and no one settled them). */
  async #releaseExpired(trx: Trx, tenantId: string, nowMs: number, balance: BalanceState): Promise<void> {
    const rows = await trx
      .selectFrom("credit_reservations")
      .select(["key", "parts"])
      .where("tenant_id", "=", tenantId)
      .where("state", "=", "held")
      .where("expires_at_ms", "<=", nowMs)
      .execute();
    for (const r of rows) {
      const parts = JSON.parse(r.parts) as ReservationParts;
      await this.#hold(trx, tenantId, parts, -1);
      balance.reserved -= parts.balance;
      await trx.updateTable("credit_reservations").set({ state: "released" }).where("tenant_id", "=", tenantId).where("key", "=", r.key).execute();
    }
  }

  /** Adds (`sign` 1) or removes (-1) a reservation's parts to the reserved amounts where they are held. */
  async #hold(trx: Trx, tenantId: string, parts: ReservationParts, sign: 1 | -1): Promise<void> {
    if (parts.balance !== 0) {
      await trx.updateTable("credit_balances").set({ reserved: sql`reserved + ${sign * parts.balance}` }).where("tenant_id", "=", tenantId).execute();
    }
    for (const g of parts.grants) {
      await trx.updateTable("credit_grants").set({ reserved: sql`reserved + ${sign * g.amount}` }).where("tenant_id", "=", tenantId).where("id", "=", g.grantId).execute();
    }
    if (parts.window !== 0) await this.#addWindows(trx, tenantId, parts.primaryStartMs, parts.secondaryStartMs, "reserved", sign * parts.window);
  }

  /** Writes a settled charge: its billable event, what each grant and the balance gave, and the window use. */
  async #writeCharge(trx: Trx, req: SettleRequest, key: string, cost: number, a: ReturnType<typeof allocate>): Promise<void> {
    const fromGrants = a.grants.reduce((s, g) => s + g.amount, 0);
    await trx
      .insertInto("billable_events")
      .values({
        idempotency_key: key,
        tenant_id: req.tenantId,
        user_id: req.userId,
        model: req.model,
        input_price: req.price.inputPerMillion,
        cached_input_price: req.price.cachedInputPerMillion,
        output_price: req.price.outputPerMillion,
        cost,
        from_window: a.window,
        primary_start_ms: a.primaryStartMs,
        secondary_start_ms: a.secondaryStartMs,
        from_grants: fromGrants,
        from_balance: a.balance,
        uncollected: a.shortfall,
        created_at_ms: req.nowMs,
      })
      .execute();
    for (const g of a.grants) {
      await trx.updateTable("credit_grants").set({ remaining: sql`remaining - ${g.amount}` }).where("tenant_id", "=", req.tenantId).where("id", "=", g.grantId).execute();
      await trx
        .insertInto("balance_updates")
        .values({ idempotency_key: `${key}/grant:${g.grantId}`, tenant_id: req.tenantId, account: `grant:${g.grantId}`, kind: "settlement", amount: -g.amount, created_at_ms: req.nowMs })
        .execute();
    }
    if (a.balance > 0) {
      await trx.updateTable("credit_balances").set({ balance: sql`balance - ${a.balance}`, updated_at_ms: req.nowMs }).where("tenant_id", "=", req.tenantId).execute();
      await trx
        .insertInto("balance_updates")
        .values({ idempotency_key: `${key}/balance`, tenant_id: req.tenantId, account: "balance", kind: "settlement", amount: -a.balance, created_at_ms: req.nowMs })
        .execute();
    }
    if (a.window > 0) await this.#addWindows(trx, req.tenantId, a.primaryStartMs, a.secondaryStartMs, "used", a.window);
  }

  async #addWindows(trx: Trx, tenantId: string, primaryStartMs: number | null, secondaryStartMs: number | null, column: "used" | "reserved", amount: number): Promise<void> {
    for (const [kind, startMs] of [["primary", primaryStartMs], ["secondary", secondaryStartMs]] as const) {
      if (startMs === null) continue;
      await trx
        .insertInto("credit_windows")
        .values({ tenant_id: tenantId, kind, start_ms: startMs, used: column === "used" ? amount : 0, reserved: column === "reserved" ? amount : 0 })
        .onConflict((oc) => oc.columns(["tenant_id", "kind", "start_ms"]).doUpdateSet({ [column]: sql`${sql.ref(`credit_windows.${column}`)} + ${amount}` }))
        .execute();
    }
  }

  /** The tenant's windows now, and its grants still live. */
  async #funding(db: Db | Trx, tenantId: string, plan: Plan, nowMs: number, balance: BalanceState): Promise<FundingState> {
    const windows: Record<"primary" | "secondary", WindowUsage | null> = { primary: null, secondary: null };
    const starts = {
      primary: plan.primary === null ? null : windowStart(nowMs, plan.primary.windowMins),
      secondary: plan.secondary === null ? null : windowStart(nowMs, plan.secondary.windowMins),
    };
    if (starts.primary !== null || starts.secondary !== null) {
      const rows = await db
        .selectFrom("credit_windows")
        .select(["kind", "start_ms", "used", "reserved"])
        .where("tenant_id", "=", tenantId)
        .where((eb) =>
          eb.or([
            eb.and([eb("kind", "=", "primary"), eb("start_ms", "=", starts.primary ?? -1)]),
            eb.and([eb("kind", "=", "secondary"), eb("start_ms", "=", starts.secondary ?? -1)]),
          ]),
        )
        .execute();
      for (const r of rows) {
        const kind = r.kind === "primary" ? "primary" : "secondary";
        windows[kind] = { startMs: Number(r.start_ms), used: Number(r.used), reserved: Number(r.reserved) };
      }
    }
    const grantRows = await db
      .selectFrom("credit_grants")
      .select(["id", "remaining", "reserved", "expires_at_ms"])
      .where("tenant_id", "=", tenantId)
      .where("expires_at_ms", ">", nowMs)
      .where("remaining", ">", 0)
      .orderBy("expires_at_ms")
      .orderBy("id")
      .execute();
    const grants: GrantState[] = grantRows.map((g) => ({ id: g.id, remaining: Number(g.remaining), reserved: Number(g.reserved), expiresAtMs: Number(g.expires_at_ms) }));
    return { plan, windows, grants, balance };
  }
}

/** Runs an `INSERT … ON CONFLICT DO NOTHING`; true when it inserted the row. */
async function insertIgnore<T extends keyof CreditTables>(q: InsertQueryBuilder<CreditTables, T, InsertResult>): Promise<boolean> {
  const r = await q.onConflict((oc) => oc.doNothing()).executeTakeFirstOrThrow();
  return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
