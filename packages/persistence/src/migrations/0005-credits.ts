import type { Kysely, Migration } from "kysely";

/**
 * The credit waterfall: plans, grants, balances, reservations, concurrency slots, and three ledgers kept
 * apart — usage events (tokens), billable events (priced) and balance updates (signed amounts) — each
 * with its idempotency key unique (the primary key, led by the tenant as every key of the schema), so a
 * settlement repeated on any host inserts nothing the second time. Plans are the one global table.
 * Money is integer micro-credits (bigint); times are Unix milliseconds.
 */
export const migration0005Credits: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable("plans")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("plan_type", "text", (c) => c.notNull())
      .addColumn("priority_class", "integer", (c) => c.notNull())
      .addColumn("unlimited", "integer", (c) => c.notNull())
      .addColumn("primary_window_mins", "integer")
      .addColumn("primary_budget", "bigint")
      .addColumn("secondary_window_mins", "integer")
      .addColumn("secondary_budget", "bigint")
      .addColumn("max_turns_per_tenant", "integer", (c) => c.notNull())
      .addColumn("max_turns_per_user", "integer", (c) => c.notNull())
      .addColumn("burst_per_key", "integer", (c) => c.notNull())
      .addColumn("burst_per_tenant", "integer", (c) => c.notNull())
      .addColumn("updated_at_ms", "bigint", (c) => c.notNull())
      .execute();
    // Tenants are created on plan `default` unless given another: unlimited, generous limits.
    await db
      .insertInto("plans")
      .values({
        id: "default",
        name: "Default",
        plan_type: "unknown",
        priority_class: 1,
        unlimited: 1,
        primary_window_mins: null,
        primary_budget: null,
        secondary_window_mins: null,
        secondary_budget: null,
        max_turns_per_tenant: 1000,
        max_turns_per_user: 1000,
        burst_per_key: 1000,
        burst_per_tenant: 1000,
        updated_at_ms: 0,
      })
      .execute();

    await db.schema
      .createTable("credit_balances")
      .addColumn("tenant_id", "text", (c) => c.primaryKey())
      .addColumn("balance", "bigint", (c) => c.notNull())
      .addColumn("reserved", "bigint", (c) => c.notNull())
      // Bumped by every change of the tenant's credits, slots excepted: a write conditional on it sees
      // nothing changed since its read.
      .addColumn("version", "bigint", (c) => c.notNull())
      .addColumn("updated_at_ms", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("credit_grants")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("amount", "bigint", (c) => c.notNull())
      .addColumn("remaining", "bigint", (c) => c.notNull())
      .addColumn("reserved", "bigint", (c) => c.notNull())
      .addColumn("expires_at_ms", "bigint", (c) => c.notNull())
      .addColumn("created_at_ms", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("credit_grants_pk", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("credit_grants_by_expiry").on("credit_grants").columns(["tenant_id", "expires_at_ms"]).execute();

    // Usage counted in each plan window: settled (`used`) and held by reservations (`reserved`).
    await db.schema
      .createTable("credit_windows")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("start_ms", "bigint", (c) => c.notNull())
      .addColumn("used", "bigint", (c) => c.notNull())
      .addColumn("reserved", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("credit_windows_pk", ["tenant_id", "kind", "start_ms"])
      .execute();

    await db.schema
      .createTable("credit_reservations")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("amount", "bigint", (c) => c.notNull())
      // JSON `ReservationParts`: where the amount is held.
      .addColumn("parts", "text", (c) => c.notNull())
      // held | settled | released
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("created_at_ms", "bigint", (c) => c.notNull())
      .addColumn("expires_at_ms", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("credit_reservations_pk", ["tenant_id", "key"])
      .execute();
    await db.schema.createIndex("credit_reservations_held").on("credit_reservations").columns(["tenant_id", "state", "expires_at_ms"]).execute();

    await db.schema
      .createTable("turn_slots")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("turn_id", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("expires_at_ms", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("turn_slots_pk", ["tenant_id", "turn_id"])
      .execute();
    await db.schema.createIndex("turn_slots_by_user").on("turn_slots").columns(["tenant_id", "user_id", "expires_at_ms"]).execute();

    await db.schema
      .createTable("usage_events")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("idempotency_key", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("turn_id", "text", (c) => c.notNull())
      .addColumn("round", "integer", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("input_tokens", "bigint", (c) => c.notNull())
      .addColumn("cached_input_tokens", "bigint", (c) => c.notNull())
      .addColumn("output_tokens", "bigint", (c) => c.notNull())
      .addColumn("created_at_ms", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("usage_events_pk", ["tenant_id", "idempotency_key"])
      .execute();
    await db.schema.createIndex("usage_events_by_tenant").on("usage_events").columns(["tenant_id", "created_at_ms"]).execute();

    await db.schema
      .createTable("billable_events")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("idempotency_key", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      // Prices applied, micro-credits per million tokens: the cost can be recomputed from the usage event.
      .addColumn("input_price", "bigint", (c) => c.notNull())
      .addColumn("cached_input_price", "bigint", (c) => c.notNull())
      .addColumn("output_price", "bigint", (c) => c.notNull())
      .addColumn("cost", "bigint", (c) => c.notNull())
      .addColumn("from_window", "bigint", (c) => c.notNull())
      .addColumn("primary_start_ms", "bigint")
      .addColumn("secondary_start_ms", "bigint")
      .addColumn("from_grants", "bigint", (c) => c.notNull())
      .addColumn("from_balance", "bigint", (c) => c.notNull())
      .addColumn("uncollected", "bigint", (c) => c.notNull())
      .addColumn("created_at_ms", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("billable_events_pk", ["tenant_id", "idempotency_key"])
      .execute();
    await db.schema.createIndex("billable_events_by_tenant").on("billable_events").columns(["tenant_id", "created_at_ms"]).execute();

    // account: `balance` (purchased credits) or `grant:<id>`.
    await db.schema
      .createTable("balance_updates")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("idempotency_key", "text", (c) => c.notNull())
      .addColumn("account", "text", (c) => c.notNull())
      // topUp | grant | settlement
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("amount", "bigint", (c) => c.notNull())
      .addColumn("created_at_ms", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("balance_updates_pk", ["tenant_id", "idempotency_key"])
      .execute();
    await db.schema.createIndex("balance_updates_by_tenant").on("balance_updates").columns(["tenant_id", "account"]).execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    for (const t of ["balance_updates", "billable_events", "usage_events", "turn_slots", "credit_reservations", "credit_windows", "credit_grants", "credit_balances", "plans"]) {
      await db.schema.dropTable(t).execute();
    }
  },
};
