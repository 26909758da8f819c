import { sql, type Kysely, type RawBuilder, type Selectable } from "kysely";
import type { Database, ServerRequestsTable } from "./database.ts";
import type { StoreBackend } from "./store-backend.ts";
import { PreparedStatement } from "./prepared-statement.ts";
import { MissingThreadError, StaleEpochError, type ServerRequestRecord } from "./store.ts";
import { text } from "./write-statements.ts";

type FenceParam = "tenantId" | "threadId" | "epoch";
type PutParam = FenceParam | "requestKey" | "turnId" | "itemId" | "method" | "params" | "seq" | "createdAt";
type DeleteParam = FenceParam | "requestKey";

/**
 * The `server_requests` rows of `ThreadStore`. Writes are fenced like the other owner writes (see
 * `WriteStatements`): the insert selects its values from the thread row under `owner_epoch <= ?`, the
 * delete requires that row to exist, and on PostgreSQL both share-lock it so a concurrent `claimEpoch`
 * either commits first or waits for them. An adopting owner therefore lists every request the previous
 * owner stored, and the previous owner can store none after that.
 */
export class ServerRequestRows {
  readonly #db: Kysely<Database>;
  readonly #put: PreparedStatement<PutParam>;
  readonly #delete: PreparedStatement<DeleteParam>;

  constructor(db: Kysely<Database>, backend: StoreBackend) {
    this.#db = db;
    const fence = (p: (name: FenceParam) => never) => {
      const q = db
        .selectFrom("threads as t")
        .where("t.tenant_id", "=", p("tenantId"))
        .where("t.id", "=", p("threadId"))
        .where("t.owner_epoch", "<=", p("epoch"));
      return backend.rowLocks ? q.forShare("t") : q;
    };

    this.#put = new PreparedStatement<PutParam>((p) =>
      db
        .insertInto("server_requests")
        .columns(["tenant_id", "thread_id", "request_key", "turn_id", "item_id", "method", "params", "seq", "created_at"])
        .expression(
          fence(p).select([
            "t.tenant_id",
            "t.id",
            text(p("requestKey")).as("request_key"),
            text(p("turnId")).as("turn_id"),
            text(p("itemId")).as("item_id"),
            text(p("method")).as("method"),
            text(p("params")).as("params"),
            int(p("seq")).as("seq"),
            int(p("createdAt")).as("created_at"),
          ]),
        )
        .onConflict((oc) =>
          oc.columns(["tenant_id", "thread_id", "request_key"]).doUpdateSet((eb) => ({
            turn_id: eb.ref("excluded.turn_id"),
            item_id: eb.ref("excluded.item_id"),
            method: eb.ref("excluded.method"),
            params: eb.ref("excluded.params"),
            seq: eb.ref("excluded.seq"),
            created_at: eb.ref("excluded.created_at"),
          })),
        ),
    );

    this.#delete = new PreparedStatement<DeleteParam>((p) =>
      db
        .deleteFrom("server_requests")
        .where("tenant_id", "=", p("tenantId"))
        .where("thread_id", "=", p("threadId"))
        .where("request_key", "=", p("requestKey"))
        .where((eb) => eb.exists(fence(p).select(sql<number>`1`.as("fenced")))),
    );
  }

  async put(r: ServerRequestRecord, epoch: number): Promise<void> {
    const res = await this.#put.execute(this.#db, {
      tenantId: r.tenantId,
      threadId: r.threadId,
      epoch,
      requestKey: r.requestKey,
      turnId: r.turnId,
      itemId: r.itemId,
      method: r.method,
      params: JSON.stringify(r.params ?? null),
      seq: r.seq,
      createdAt: r.createdAt,
    });
    if (!res.numAffectedRows) await this.#explain(r.tenantId, r.threadId, epoch, true);
  }

  async delete(tenantId: string, threadId: string, requestKey: string, epoch: number): Promise<void> {
    const res = await this.#delete.execute(this.#db, { tenantId, threadId, epoch, requestKey });
    // Nothing deleted: fenced off, a missing thread, or a request already gone (fine).
    if (!res.numAffectedRows) await this.#explain(tenantId, threadId, epoch, false);
  }

  async list(tenantId: string, threadId: string): Promise<ServerRequestRecord[]> {
    const rows = await this.#db
      .selectFrom("server_requests")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("thread_id", "=", threadId)
      .orderBy("seq", "asc")
      .orderBy("request_key", "asc")
      .execute();
    return rows.map(rowToServerRequest);
  }

  /** After a write touched nothing: throws when fenced off or the thread is missing; `mustWrite` for inserts. */
  async #explain(tenantId: string, threadId: string, epoch: number, mustWrite: boolean): Promise<void> {
    const row = await this.#db
      .selectFrom("threads")
      .select("owner_epoch")
      .where("tenant_id", "=", tenantId)
      .where("id", "=", threadId)
      .executeTakeFirst();
    if (row && row.owner_epoch > epoch) throw new StaleEpochError(threadId, epoch, row.owner_epoch);
    if (!row || mustWrite) throw new MissingThreadError(threadId);
  }
}

function rowToServerRequest(r: Selectable<ServerRequestsTable>): ServerRequestRecord {
  return {
    tenantId: r.tenant_id,
    threadId: r.thread_id,
    requestKey: r.request_key,
    turnId: r.turn_id,
    itemId: r.item_id,
    method: r.method,
    params: JSON.parse(r.params),
    seq: r.seq,
    createdAt: r.created_at,
  };
}

/** See `text` in write-statements.ts: a bound value in a SELECT list takes the column's type. */
function int(v: unknown): RawBuilder<number> {
  return sql<number>`cast(${v} as bigint)`;
}
