import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "./database.ts";
import type { StoreBackend } from "./store-backend.ts";
import { PreparedStatement } from "./prepared-statement.ts";

type FenceParam = "tenantId" | "threadId" | "epoch";
type TurnParam = FenceParam | "id" | "ordinal" | "status" | "error" | "startedAt" | "completedAt" | "durationMs" | "outputSchema" | "startedBy";
type ItemParam = FenceParam | "id" | "turnId" | "ordinal" | "body";

/**
 * The hot-path writes, prepared once per store. Each fenced insert is one statement,
 * `INSERT … SELECT <values> FROM threads WHERE tenant_id = ? AND id = ? AND owner_epoch <= ?`, so it writes
 * nothing unless the writer's epoch is current; where the backend has row locks the thread row is
 * share-locked, so a concurrent `claimEpoch` either commits first (and the insert then sees it) or waits.
 */
export class WriteStatements {
  readonly putTurn: PreparedStatement<TurnParam>;
  readonly putItem: PreparedStatement<ItemParam>;
  readonly claimEpoch: PreparedStatement<FenceParam>;
  readonly #db: Kysely<Database>;
  readonly #backend: StoreBackend;
  readonly #history = new Map<number, PreparedStatement<string>>();

  constructor(db: Kysely<Database>, backend: StoreBackend) {
    this.#db = db;
    this.#backend = backend;

    this.putTurn = new PreparedStatement<TurnParam>((p) =>
      db
        .insertInto("turns")
        .columns(["tenant_id", "thread_id", "id", "ordinal", "status", "error", "started_at", "completed_at", "duration_ms", "output_schema", "started_by"])
        .expression(
          this.#fence(p).select([
            "t.tenant_id",
            "t.id",
            text(p("id")).as("turn_id"),
            int(p("ordinal")).as("ordinal"),
            text(p("status")).as("status"),
            text(p("error")).as("error"),
            int(p("startedAt")).as("started_at"),
            int(p("completedAt")).as("completed_at"),
            int(p("durationMs")).as("duration_ms"),
            text(p("outputSchema")).as("output_schema"),
            text(p("startedBy")).as("started_by"),
          ]),
        )
        .onConflict((oc) =>
          oc.columns(["tenant_id", "thread_id", "id"]).doUpdateSet((eb) => ({
            ordinal: eb.ref("excluded.ordinal"),
            status: eb.ref("excluded.status"),
            error: eb.ref("excluded.error"),
            started_at: eb.ref("excluded.started_at"),
            completed_at: eb.ref("excluded.completed_at"),
            duration_ms: eb.ref("excluded.duration_ms"),
            output_schema: eb.ref("excluded.output_schema"),
            started_by: eb.ref("excluded.started_by"),
          })),
        ),
    );

    this.putItem = new PreparedStatement<ItemParam>((p) =>
      db
        .insertInto("items")
        .columns(["tenant_id", "thread_id", "id", "turn_id", "ordinal", "body"])
        .expression(
          this.#fence(p).select([
            "t.tenant_id",
            "t.id",
            text(p("id")).as("item_id"),
            text(p("turnId")).as("turn_id"),
            int(p("ordinal")).as("ordinal"),
            text(p("body")).as("body"),
          ]),
        )
        .onConflict((oc) =>
          oc.columns(["tenant_id", "thread_id", "id"]).doUpdateSet((eb) => ({
            turn_id: eb.ref("excluded.turn_id"),
            ordinal: eb.ref("excluded.ordinal"),
            body: eb.ref("excluded.body"),
          })),
        ),
    );

    this.claimEpoch = new PreparedStatement<FenceParam>((p) =>
      db
        .updateTable("threads")
        .set({ owner_epoch: p("epoch") })
        .where("tenant_id", "=", p("tenantId"))
        .where("id", "=", p("threadId"))
        .where("owner_epoch", "<=", p("epoch")),
    );
  }

  /**
   * Upserts `rows` history entries of one thread; parameters `turnId<i>`, `ordinal<i>`, `entry<i>` for
   * each row plus the fence's. One statement per distinct row count, built on first use.
   */
  appendHistory(rows: number): PreparedStatement<string> {
    let stmt = this.#history.get(rows);
    if (!stmt) {
      stmt = this.#buildHistory(rows);
      this.#history.set(rows, stmt);
    }
    return stmt;
  }

  #buildHistory(rows: number): PreparedStatement<string> {
    return new PreparedStatement<string>((p) => {
      const values = sql.join(
        Array.from({ length: rows }, (_, i) => sql`(${text(p(`turnId${i}`))}, ${int(p(`ordinal${i}`))}, ${text(p(`entry${i}`))})`),
      );
      const fenced = this.#db
        .with("v(turn_id, ordinal, entry)", () => sql<{ turn_id: string; ordinal: number; entry: string }>`(values ${values})`)
        .selectFrom(["threads as t", "v"])
        .select(["t.tenant_id", "t.id", "v.turn_id", "v.ordinal", "v.entry"])
        .where("t.tenant_id", "=", p("tenantId"))
        .where("t.id", "=", p("threadId"))
        .where("t.owner_epoch", "<=", p("epoch"));
      return this.#db
        .insertInto("history")
        .columns(["tenant_id", "thread_id", "turn_id", "ordinal", "entry"])
        .expression(this.#backend.rowLocks ? fenced.forShare("t") : fenced)
        .onConflict((oc) =>
          oc.columns(["tenant_id", "thread_id", "ordinal"]).doUpdateSet((eb) => ({
            turn_id: eb.ref("excluded.turn_id"),
            entry: eb.ref("excluded.entry"),
          })),
        );
    });
  }

  /** The thread row a fenced write may proceed under; no row means fenced off or missing. */
  #fence(p: (name: FenceParam) => never) {
    const q = this.#db
      .selectFrom("threads as t")
      .where("t.tenant_id", "=", p("tenantId"))
      .where("t.id", "=", p("threadId"))
      .where("t.owner_epoch", "<=", p("epoch"));
    return this.#backend.rowLocks ? q.forShare("t") : q;
  }
}

/**
 * Bound values in a SELECT list or VALUES row carry no column type, and PostgreSQL reads such a parameter
 * as text; the casts give them the type of the column they land in (no-ops on SQLite).
 */
export function text(v: unknown): RawBuilder<string> {
  return sql<string>`cast(${v} as text)`;
}
function int(v: unknown): RawBuilder<number> {
  return sql<number>`cast(${v} as bigint)`;
}
