import type { Kysely } from "kysely";
import type { CreditTables } from "./credit-tables.ts";

/** A tenant's purchased credits and live grants. Money is micro-credits, times Unix ms. */
export interface BalanceView {
  tenantId: string;
  balance: number;
  reserved: number;
  grants: Array<{ id: string; amount: number; remaining: number; reserved: number; expiresAtMs: number; createdAtMs: number }>;
}

/** One balance update (the ledger of purchased credits and grants). */
export interface LedgerEntryView {
  idempotencyKey: string;
  account: string;
  kind: "topUp" | "grant" | "settlement";
  amount: number;
  createdAtMs: number;
}

/** Usage and what it cost, summed for one user (or for everyone). */
export interface UsageTotals {
  userId: string;
  rounds: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  cost: number;
  fromWindow: number;
  fromGrants: number;
  fromBalance: number;
  uncollected: number;
}

export interface UsageQuery {
  tenantId: string;
  userId?: string | undefined;
  /** Inclusive; undefined: unbounded. */
  fromMs?: number | undefined;
  /** Exclusive; undefined: unbounded. */
  toMs?: number | undefined;
}

/** Raised for a page token this ledger did not hand out. */
export class InvalidPageTokenError extends Error {
  constructor() {
    super("page token is not one this server handed out");
    this.name = "InvalidPageTokenError";
  }
}

/** Read-only queries over the credit tables for operators: balances, the ledger in pages, usage by user and time. */
export class CreditLedger {
  readonly #db: Kysely<CreditTables>;

  constructor(db: Kysely<any>) {
    this.#db = db as Kysely<CreditTables>;
  }

  async balance(tenantId: string, nowMs: number): Promise<BalanceView> {
    const [row, grants] = await Promise.all([
      this.#db.selectFrom("credit_balances").select(["balance", "reserved"]).where("tenant_id", "=", tenantId).executeTakeFirst(),
      this.#db.selectFrom("credit_grants").selectAll().where("tenant_id", "=", tenantId).where("expires_at_ms", ">", nowMs).orderBy("expires_at_ms").orderBy("id").execute(),
    ]);
    return {
      tenantId,
      balance: Number(row?.balance ?? 0),
      reserved: Number(row?.reserved ?? 0),
      grants: grants.map((g) => ({ id: g.id, amount: Number(g.amount), remaining: Number(g.remaining), reserved: Number(g.reserved), expiresAtMs: Number(g.expires_at_ms), createdAtMs: Number(g.created_at_ms) })),
    };
  }

  /** Balance updates oldest first; `pageToken` continues after the previous page. */
  async ledger(tenantId: string, opts: { pageSize: number; pageToken?: string | undefined }): Promise<{ entries: LedgerEntryView[]; nextPageToken: string | null }> {
    let q = this.#db.selectFrom("balance_updates").select(["idempotency_key", "account", "kind", "amount", "created_at_ms"]).where("tenant_id", "=", tenantId);
    if (opts.pageToken) {
      const [ms, key] = decodeToken(opts.pageToken);
      q = q.where((eb) => eb.or([eb("created_at_ms", ">", ms), eb.and([eb("created_at_ms", "=", ms), eb("idempotency_key", ">", key)])]));
    }
    const rows = await q.orderBy("created_at_ms").orderBy("idempotency_key").limit(opts.pageSize + 1).execute();
    const page = rows.slice(0, opts.pageSize);
    const last = page[page.length - 1];
    return {
      entries: page.map((r) => ({ idempotencyKey: r.idempotency_key, account: r.account, kind: r.kind, amount: Number(r.amount), createdAtMs: Number(r.created_at_ms) })),
      nextPageToken: rows.length > opts.pageSize && last ? encodeToken(Number(last.created_at_ms), last.idempotency_key) : null,
    };
  }

  /** Usage events and their billable events in the range, summed per user (ordered by user id). */
  async usage(query: UsageQuery): Promise<UsageTotals[]> {
    let u = this.#db
      .selectFrom("usage_events")
      .select((eb) => [
        "user_id",
        eb.fn.countAll().as("rounds"),
        eb.fn.sum<number>("input_tokens").as("input_tokens"),
        eb.fn.sum<number>("cached_input_tokens").as("cached_input_tokens"),
        eb.fn.sum<number>("output_tokens").as("output_tokens"),
      ])
      .where("tenant_id", "=", query.tenantId);
    let b = this.#db
      .selectFrom("billable_events")
      .select((eb) => [
        "user_id",
        eb.fn.sum<number>("cost").as("cost"),
        eb.fn.sum<number>("from_window").as("from_window"),
        eb.fn.sum<number>("from_grants").as("from_grants"),
        eb.fn.sum<number>("from_balance").as("from_balance"),
        eb.fn.sum<number>("uncollected").as("uncollected"),
      ])
      .where("tenant_id", "=", query.tenantId);
    if (query.userId !== undefined) {
      u = u.where("user_id", "=", query.userId);
      b = b.where("user_id", "=", query.userId);
    }
    if (query.fromMs !== undefined) {
      u = u.where("created_at_ms", ">=", query.fromMs);
      b = b.where("created_at_ms", ">=", query.fromMs);
    }
    if (query.toMs !== undefined) {
      u = u.where("created_at_ms", "<", query.toMs);
      b = b.where("created_at_ms", "<", query.toMs);
    }
    const [usage, billed] = await Promise.all([u.groupBy("user_id").execute(), b.groupBy("user_id").execute()]);
    const byUser = new Map<string, UsageTotals>();
    const of = (userId: string): UsageTotals => {
      let t = byUser.get(userId);
      if (!t) byUser.set(userId, (t = emptyTotals(userId)));
      return t;
    };
    for (const r of usage) {
      const t = of(r.user_id);
      t.rounds = Number(r.rounds);
      t.inputTokens = Number(r.input_tokens ?? 0);
      t.cachedInputTokens = Number(r.cached_input_tokens ?? 0);
      t.outputTokens = Number(r.output_tokens ?? 0);
    }
    for (const r of billed) {
      const t = of(r.user_id);
      t.cost = Number(r.cost ?? 0);
      t.fromWindow = Number(r.from_window ?? 0);
      t.fromGrants = Number(r.from_grants ?? 0);
      t.fromBalance = Number(r.from_balance ?? 0);
      t.uncollected = Number(r.uncollected ?? 0);
    }
    return [...byUser.values()].sort((a, c) => (a.userId < c.userId ? -1 : a.userId > c.userId ? 1 : 0));
  }
}

/** Totals of zero for `userId`. */
export function emptyTotals(userId: string): UsageTotals {
  return { userId, rounds: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, cost: 0, fromWindow: 0, fromGrants: 0, fromBalance: 0, uncollected: 0 };
}

function encodeToken(ms: number, key: string): string {
  return Buffer.from(JSON.stringify([ms, key]), "utf8").toString("base64url");
}

function decodeToken(token: string): [number, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === "string") return [v[0] as number, v[1]];
  } catch {
    // falls through
  }
  throw new InvalidPageTokenError();
}
