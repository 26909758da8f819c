import type { Kysely } from "kysely";
import { costAt, type ReconcileReport, type ReservationParts } from "@threadmesh/ratelimit";
import type { CreditTables } from "./credit-tables.ts";

/**
 * Proves, per tenant, that the three ledgers and the balances agree:
 * - every usage event has its billable event (same key) and every billable event its usage event;
 * - each billable cost is the usage priced at the prices the event records, and equals what the plan
 *   windows, grants and balance paid plus what went uncollected;
 * - the balance is the sum of its balance updates, and its settlement updates sum to what billable
 *   events took from the balance; likewise each grant's remainder and the grants' settlement updates;
 * - each window's usage is what billable events counted in it;
 * - reserved amounts (balance, grants, windows) are exactly the parts of the reservations still held;
 * - the balance is not below −(reservations in flight).
 */
export async function reconcileTenants(db: Kysely<CreditTables>, only?: string): Promise<ReconcileReport[]> {
  // One snapshot for every read: balances and ledgers written while the check runs (a settlement, a
  // slice given back) would otherwise be seen half before and half after, and disagree.
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute((trx) => reconcileIn(trx, only));
}

async function reconcileIn(db: Kysely<CreditTables>, only?: string): Promise<ReconcileReport[]> {
  let tq = db.selectFrom("credit_balances").select(["tenant_id", "balance", "reserved"]).orderBy("tenant_id");
  if (only !== undefined) tq = tq.where("tenant_id", "=", only);
  const tenants = await tq.execute();
  const reports: ReconcileReport[] = [];
  for (const t of tenants) reports.push(await reconcileTenant(db, t.tenant_id, Number(t.balance), Number(t.reserved)));
  if (only !== undefined && tenants.length === 0) {
    reports.push(await reconcileTenant(db, only, 0, 0));
  }
  return reports;
}

async function reconcileTenant(db: Kysely<CreditTables>, tenantId: string, balance: number, reserved: number): Promise<ReconcileReport> {
  const problems: string[] = [];
  const [usage, billable, updates, grants, windows, reservations] = await Promise.all([
    db.selectFrom("usage_events").selectAll().where("tenant_id", "=", tenantId).execute(),
    db.selectFrom("billable_events").selectAll().where("tenant_id", "=", tenantId).execute(),
    db.selectFrom("balance_updates").select(["idempotency_key", "account", "kind", "amount"]).where("tenant_id", "=", tenantId).execute(),
    db.selectFrom("credit_grants").selectAll().where("tenant_id", "=", tenantId).execute(),
    db.selectFrom("credit_windows").selectAll().where("tenant_id", "=", tenantId).execute(),
    db.selectFrom("credit_reservations").select(["key", "parts"]).where("tenant_id", "=", tenantId).where("state", "=", "held").execute(),
  ]);

  const billableByKey = new Map(billable.map((b) => [b.idempotency_key, b]));
  const usageKeys = new Set(usage.map((u) => u.idempotency_key));
  for (const u of usage) {
    const b = billableByKey.get(u.idempotency_key);
    if (b === undefined) {
      problems.push(`usage event ${u.idempotency_key} has no billable event`);
      continue;
    }
    const price = { inputPerMillion: Number(b.input_price), cachedInputPerMillion: Number(b.cached_input_price), outputPerMillion: Number(b.output_price) };
    const expected = costAt(price, { inputTokens: Number(u.input_tokens), cachedInputTokens: Number(u.cached_input_tokens), outputTokens: Number(u.output_tokens) });
    if (expected !== Number(b.cost)) problems.push(`billable event ${b.idempotency_key} costs ${b.cost}, its usage prices at ${expected}`);
  }
  let billed = 0;
  let fromWindow = 0;
  let fromGrants = 0;
  let fromBalance = 0;
  let uncollected = 0;
  const windowUse = new Map<string, number>();
  for (const b of billable) {
    if (!usageKeys.has(b.idempotency_key)) problems.push(`billable event ${b.idempotency_key} has no usage event`);
    const paid = Number(b.from_window) + Number(b.from_grants) + Number(b.from_balance) + Number(b.uncollected);
    if (paid !== Number(b.cost)) problems.push(`billable event ${b.idempotency_key} costs ${b.cost} but its parts add up to ${paid}`);
    billed += Number(b.cost);
    fromWindow += Number(b.from_window);
    fromGrants += Number(b.from_grants);
    fromBalance += Number(b.from_balance);
    uncollected += Number(b.uncollected);
    for (const [kind, start] of [["primary", b.primary_start_ms], ["secondary", b.secondary_start_ms]] as const) {
      if (start === null) continue;
      const k = `${kind}@${Number(start)}`;
      windowUse.set(k, (windowUse.get(k) ?? 0) + Number(b.from_window));
    }
  }

  const byAccount = new Map<string, number>();
  let balanceSettlements = 0;
  let grantSettlements = 0;
  for (const u of updates) {
    byAccount.set(u.account, (byAccount.get(u.account) ?? 0) + Number(u.amount));
    if (u.kind === "settlement") {
      if (u.account === "balance") balanceSettlements += Number(u.amount);
      else grantSettlements += Number(u.amount);
    }
  }
  if ((byAccount.get("balance") ?? 0) !== balance) problems.push(`balance is ${balance} but its balance updates add up to ${byAccount.get("balance") ?? 0}`);
  if (-balanceSettlements !== fromBalance) problems.push(`settlements took ${-balanceSettlements} from the balance, billable events say ${fromBalance}`);
  if (-grantSettlements !== fromGrants) problems.push(`settlements took ${-grantSettlements} from grants, billable events say ${fromGrants}`);

  const heldBalance = { total: 0 };
  const heldGrants = new Map<string, number>();
  const heldWindows = new Map<string, number>();
  let reservedInFlight = 0;
  let slicedInFlight = 0;
  const slicePrefix = `${tenantId}/slice/`;
  for (const r of reservations) {
    const parts = JSON.parse(r.parts) as ReservationParts;
    heldBalance.total += parts.balance;
    const money = parts.balance + parts.grants.reduce((s, g) => s + g.amount, 0);
    if (r.key.startsWith(slicePrefix)) slicedInFlight += money;
    else reservedInFlight += money;
    for (const g of parts.grants) heldGrants.set(g.grantId, (heldGrants.get(g.grantId) ?? 0) + g.amount);
    for (const [kind, start] of [["primary", parts.primaryStartMs], ["secondary", parts.secondaryStartMs]] as const) {
      if (start === null || parts.window === 0) continue;
      const k = `${kind}@${start}`;
      heldWindows.set(k, (heldWindows.get(k) ?? 0) + parts.window);
    }
  }
  if (heldBalance.total !== reserved) problems.push(`balance holds ${reserved} reserved, held reservations add up to ${heldBalance.total}`);

  for (const g of grants) {
    const account = byAccount.get(`grant:${g.id}`) ?? 0;
    if (account !== Number(g.remaining)) problems.push(`grant ${g.id} has ${g.remaining} left, its balance updates add up to ${account}`);
    if (Number(g.remaining) < 0 || Number(g.remaining) > Number(g.amount)) problems.push(`grant ${g.id} has ${g.remaining} left of ${g.amount}`);
    const h = heldGrants.get(g.id) ?? 0;
    if (h !== Number(g.reserved)) problems.push(`grant ${g.id} holds ${g.reserved} reserved, held reservations add up to ${h}`);
  }

  for (const w of windows) {
    const k = `${w.kind}@${Number(w.start_ms)}`;
    if ((windowUse.get(k) ?? 0) !== Number(w.used)) problems.push(`${w.kind} window at ${Number(w.start_ms)} used ${w.used}, billable events counted ${windowUse.get(k) ?? 0}`);
    windowUse.delete(k);
    if ((heldWindows.get(k) ?? 0) !== Number(w.reserved)) problems.push(`${w.kind} window at ${Number(w.start_ms)} holds ${w.reserved} reserved, held reservations add up to ${heldWindows.get(k) ?? 0}`);
  }
  for (const [k, used] of windowUse) if (used !== 0) problems.push(`window ${k} is missing; billable events counted ${used} in it`);

  if (balance < -(reservedInFlight + slicedInFlight)) problems.push(`balance ${balance} is below −(reservations in flight, hosts' budget slices included) ${-(reservedInFlight + slicedInFlight)}`);

  return {
    tenantId,
    ok: problems.length === 0,
    problems,
    totals: { usageEvents: usage.length, billed, fromWindow, fromGrants, fromBalance, uncollected, balance, reservedInFlight, slicedInFlight },
  };
}
