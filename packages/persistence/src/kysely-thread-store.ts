import { sql, type Kysely } from "kysely";
import type { Database } from "./database.ts";
import type { StoreBackend } from "./store-backend.ts";
import {
  MissingThreadError,
  StaleEpochError,
  type HistoryRecord,
  type ItemRecord,
  type Page,
  type ServerRequestRecord,
  type ThreadListQuery,
  type ThreadRecord,
  type ThreadStore,
  type TurnRecord,
} from "./store.ts";
import { decodeOrdinalCursor, decodeThreadCursor, encodeOrdinalCursor, encodeThreadCursor } from "./cursor.ts";
import { WriteStatements, text } from "./write-statements.ts";
import { ServerRequestRows } from "./server-request-rows.ts";
import { ReadStateRows } from "./read-states/read-state-rows.ts";
import type { ReadMark, ReadStateBasis } from "./read-states/read-state-types.ts";
import { historyBatches, type HistoryBatch } from "./history-batches.ts";
import { keysetOperator, pageSize, toPage } from "./paging.ts";
import { jsonOrNull, rowToHistory, rowToItem, rowToThread, rowToTurn, threadPatchToRow, threadToRow } from "./row-mapping.ts";

/** Dependencies of `KyselyThreadStore`. */
export interface KyselyThreadStoreOptions {
  /** Migrated database; the store owns it and destroys it on `close()`. */
  db: Kysely<Database>;
  backend: StoreBackend;
}

/**
 * `ThreadStore` over kysely, for SQLite and PostgreSQL alike (the differences live in `StoreBackend`).
 * Fenced writes are one conditional statement (see `WriteStatements`, or `UPDATE … WHERE owner_epoch <= ?`
 * for thread updates); only when it wrote nothing does a second query tell a stale epoch from a missing
 * thread.
 */
export class KyselyThreadStore implements ThreadStore {
  readonly #db: Kysely<Database>;
  readonly #backend: StoreBackend;
  readonly #writes: WriteStatements;
  readonly #serverRequests: ServerRequestRows;
  readonly #readStates: ReadStateRows;
  #closing: Promise<void> | null = null;

  constructor(opts: KyselyThreadStoreOptions) {
    this.#db = opts.db;
    this.#backend = opts.backend;
    this.#writes = new WriteStatements(opts.db, opts.backend);
    this.#serverRequests = new ServerRequestRows(opts.db, opts.backend);
    this.#readStates = new ReadStateRows(opts.db);
  }

  /** Which database backs this store. */
  get kind(): StoreBackend["kind"] {
    return this.#backend.kind;
  }

  /**
   * The store's connection, for another store of the same process to share (the credit store of the
   * embedded topology: a second SQLite connection in one process would wait on this one's locks).
   * Closing this store closes it.
   */
  get database(): Kysely<Database> {
    return this.#db;
  }

  async createThread(t: ThreadRecord): Promise<void> {
    await this.#db.insertInto("threads").values(threadToRow(t)).execute();
  }

  async getThread(tenantId: string, id: string): Promise<ThreadRecord | null> {
    const row = await this.#db
      .selectFrom("threads")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? rowToThread(row) : null;
  }

  async updateThread(
    tenantId: string,
    id: string,
    epoch: number,
    patch: Partial<Omit<ThreadRecord, "tenantId" | "id">>,
  ): Promise<void> {
    const r = await this.#db
      .updateTable("threads")
      .set({ ...threadPatchToRow(patch), owner_epoch: epoch })
      .where("tenant_id", "=", tenantId)
      .where("id", "=", id)
      .where("owner_epoch", "<=", epoch)
      .executeTakeFirst();
    if (!r.numUpdatedRows) await this.#explainFenced(this.#db, tenantId, id, epoch);
  }

  async claimEpoch(tenantId: string, id: string, epoch: number): Promise<boolean> {
    const r = await this.#writes.claimEpoch.execute(this.#db, { tenantId, threadId: id, epoch });
    return (r.numAffectedRows ?? 0n) > 0n;
  }

  async deleteThread(tenantId: string, id: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom("items").where("tenant_id", "=", tenantId).where("thread_id", "=", id).execute();
      await trx.deleteFrom("history").where("tenant_id", "=", tenantId).where("thread_id", "=", id).execute();
      await trx.deleteFrom("turns").where("tenant_id", "=", tenantId).where("thread_id", "=", id).execute();
      await trx.deleteFrom("server_requests").where("tenant_id", "=", tenantId).where("thread_id", "=", id).execute();
      await trx.deleteFrom("read_states").where("tenant_id", "=", tenantId).where("thread_id", "=", id).execute();
      await trx.deleteFrom("threads").where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    });
  }

  async listThreads(q: ThreadListQuery): Promise<Page<ThreadRecord>> {
    const sortKey = q.sortKey;
    const desc = q.sortDirection === "desc";
    const cursor = q.cursor ? decodeThreadCursor(q.cursor, sortKey) : null;
    const limit = pageSize(q.limit);
    const position = this.#backend.positionFunction;
    const term = q.searchTerm ?? null;

    let query = this.#db
      .selectFrom("threads")
      .selectAll()
      .where("tenant_id", "=", q.tenantId)
      .where("archived", "=", q.archived ? 1 : 0)
      .where("materialized", "=", 1)
      .where("ephemeral", "=", 0);
    if (q.cwd?.length) query = query.where("cwd", "in", q.cwd);
    if (q.modelProviders?.length) query = query.where("model_provider", "in", q.modelProviders);
    if (q.excludedThreadIds?.length) query = query.where("id", "not in", q.excludedThreadIds);
    if (q.includedThreadIds?.length) query = query.where("id", "in", q.includedThreadIds);
    const viewer = q.visibleTo ?? null;
    if (viewer !== null) {
      // shared_with is a compact JSON array of strings; a raw quote occurs only around elements, so the
      // user's JSON text right after `[` or `,` is exactly one of its elements.
      const quoted = JSON.stringify(viewer);
      query = query.where((eb) =>
        eb.or([
          eb("owner_user", "=", viewer),
          eb(eb.fn<number>(position, ["shared_with", eb.val(`[${quoted}`)]), ">", 0),
          eb(eb.fn<number>(position, ["shared_with", eb.val(`,${quoted}`)]), ">", 0),
        ]),
      );
    }
    if (term !== null) {
      query = query.where((eb) =>
        eb.or([
          eb(eb.fn<number>(position, ["preview", eb.val(term)]), ">", 0),
          eb(eb.fn<number>(position, ["name", eb.val(term)]), ">", 0),
        ]),
      );
    }
    if (cursor) {
      const op = keysetOperator(desc, cursor.includeAnchor);
      query = query.where((eb) => eb(eb.refTuple(sortKey, "id"), op, eb.tuple(cursor.value, cursor.id)));
    }
    const rows = await query
      .orderBy(sortKey, desc ? "desc" : "asc")
      .orderBy("id", desc ? "desc" : "asc")
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, rowToThread, (r, includeAnchor) =>
      encodeThreadCursor({ sortKey, value: r[sortKey], id: r.id, includeAnchor }),
    );
  }

  async putTurn(t: TurnRecord, epoch: number): Promise<void> {
    const r = await this.#writes.putTurn.execute(this.#db, {
      tenantId: t.tenantId,
      threadId: t.threadId,
      epoch,
      id: t.id,
      ordinal: t.ordinal,
      status: t.status,
      error: jsonOrNull(t.error),
      startedAt: t.startedAt,
      completedAt: t.completedAt,
      durationMs: t.durationMs,
      outputSchema: jsonOrNull(t.outputSchema),
      startedBy: t.startedBy ?? null,
    });
    if (!r.numAffectedRows) await this.#explainFenced(this.#db, t.tenantId, t.threadId, epoch);
  }

  async listTurns(
    tenantId: string,
    threadId: string,
    opts: { cursor?: string | null; limit: number; sortDirection: "asc" | "desc" },
  ): Promise<Page<TurnRecord>> {
    const desc = opts.sortDirection === "desc";
    const cursor = opts.cursor ? decodeOrdinalCursor(opts.cursor, "turns") : null;
    const limit = pageSize(opts.limit);
    let query = this.#db.selectFrom("turns").selectAll().where("tenant_id", "=", tenantId).where("thread_id", "=", threadId);
    if (cursor) query = query.where("ordinal", keysetOperator(desc, cursor.includeAnchor), cursor.ordinal);
    const rows = await query
      .orderBy("ordinal", desc ? "desc" : "asc")
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, rowToTurn, (r, includeAnchor) =>
      encodeOrdinalCursor({ scope: "turns", ordinal: r.ordinal, includeAnchor }),
    );
  }

  async getTurn(tenantId: string, threadId: string, turnId: string): Promise<TurnRecord | null> {
    const row = await this.#db
      .selectFrom("turns")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("thread_id", "=", threadId)
      .where("id", "=", turnId)
      .executeTakeFirst();
    return row ? rowToTurn(row) : null;
  }

  async putItem(i: ItemRecord, epoch: number): Promise<void> {
    const r = await this.#writes.putItem.execute(this.#db, {
      tenantId: i.tenantId,
      threadId: i.threadId,
      epoch,
      id: i.item.id,
      turnId: i.turnId,
      ordinal: i.ordinal,
      body: JSON.stringify(i.item),
    });
    if (!r.numAffectedRows) await this.#explainFenced(this.#db, i.tenantId, i.threadId, epoch);
  }

  async listItems(
    tenantId: string,
    threadId: string,
    opts: { turnId?: string | null; cursor?: string | null; limit: number; sortDirection: "asc" | "desc" },
  ): Promise<Page<ItemRecord>> {
    const desc = opts.sortDirection === "desc";
    const cursor = opts.cursor ? decodeOrdinalCursor(opts.cursor, "items") : null;
    const limit = pageSize(opts.limit);
    let query = this.#db.selectFrom("items").selectAll().where("tenant_id", "=", tenantId).where("thread_id", "=", threadId);
    if (opts.turnId != null) query = query.where("turn_id", "=", opts.turnId);
    if (cursor) query = query.where("ordinal", keysetOperator(desc, cursor.includeAnchor), cursor.ordinal);
    const rows = await query
      .orderBy("ordinal", desc ? "desc" : "asc")
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, rowToItem, (r, includeAnchor) =>
      encodeOrdinalCursor({ scope: "items", ordinal: r.ordinal, includeAnchor }),
    );
  }

  async appendHistory(entries: HistoryRecord[], epoch: number): Promise<void> {
    const batches = historyBatches(entries);
    const [only] = batches;
    if (!only) return;
    if (batches.length === 1) return this.#insertHistory(this.#db, only, epoch);
    await this.#db.transaction().execute(async (trx) => {
      for (const batch of batches) await this.#insertHistory(trx, batch, epoch);
    });
  }

  async loadHistory(tenantId: string, threadId: string): Promise<HistoryRecord[]> {
    const rows = await this.#db
      .selectFrom("history")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("thread_id", "=", threadId)
      .orderBy("ordinal", "asc")
      .execute();
    return rows.map(rowToHistory);
  }

  putServerRequest(r: ServerRequestRecord, epoch: number): Promise<void> {
    return this.#serverRequests.put(r, epoch);
  }

  deleteServerRequest(tenantId: string, threadId: string, requestKey: string, epoch: number): Promise<void> {
    return this.#serverRequests.delete(tenantId, threadId, requestKey, epoch);
  }

  listServerRequests(tenantId: string, threadId: string): Promise<ServerRequestRecord[]> {
    return this.#serverRequests.list(tenantId, threadId);
  }

  async copyThreadContent(tenantId: string, from: string, to: string, lastTurnId: string | null): Promise<void> {
    // One snapshot for the three copies, so a source mid-turn cannot yield items without their turn.
    await this.#db.transaction().setIsolationLevel("repeatable read").execute(async (trx) => {
      let lastOrdinal: number | null = null;
      if (lastTurnId !== null) {
        const last = await trx
          .selectFrom("turns")
          .select("ordinal")
          .where("tenant_id", "=", tenantId)
          .where("thread_id", "=", from)
          .where("id", "=", lastTurnId)
          .executeTakeFirst();
        if (!last) throw new Error(`turn not found: ${lastTurnId}`);
        lastOrdinal = last.ordinal;
      }
      const copiedTurnIds = (bound: number) =>
        trx
          .selectFrom("turns")
          .select("id")
          .where("tenant_id", "=", tenantId)
          .where("thread_id", "=", from)
          .where("ordinal", "<=", bound);

      let turns = trx
        .selectFrom("turns")
        .select([
          "tenant_id",
          text(to).as("thread_id"),
          "id",
          "ordinal",
          "status",
          "error",
          "started_at",
          "completed_at",
          "duration_ms",
          "output_schema",
        ])
        .where("tenant_id", "=", tenantId)
        .where("thread_id", "=", from);
      if (lastOrdinal !== null) turns = turns.where("ordinal", "<=", lastOrdinal);
      await trx
        .insertInto("turns")
        .columns(["tenant_id", "thread_id", "id", "ordinal", "status", "error", "started_at", "completed_at", "duration_ms", "output_schema"])
        .expression(turns)
        .onConflict((oc) => oc.doNothing())
        .execute();

      let items = trx
        .selectFrom("items")
        .select(["tenant_id", text(to).as("thread_id"), "id", "turn_id", "ordinal", "body"])
        .where("tenant_id", "=", tenantId)
        .where("thread_id", "=", from);
      if (lastOrdinal !== null) items = items.where("turn_id", "in", copiedTurnIds(lastOrdinal));
      await trx
        .insertInto("items")
        .columns(["tenant_id", "thread_id", "id", "turn_id", "ordinal", "body"])
        .expression(items)
        .onConflict((oc) => oc.doNothing())
        .execute();

      let history = trx
        .selectFrom("history")
        .select(["tenant_id", text(to).as("thread_id"), "turn_id", "ordinal", "entry"])
        .where("tenant_id", "=", tenantId)
        .where("thread_id", "=", from);
      if (lastOrdinal !== null) history = history.where("turn_id", "in", copiedTurnIds(lastOrdinal));
      await trx
        .insertInto("history")
        .columns(["tenant_id", "thread_id", "turn_id", "ordinal", "entry"])
        .expression(history)
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
  }

  readStateBases(tenantId: string, reader: string, threadIds: readonly string[]): Promise<Map<string, ReadStateBasis>> {
    return this.#readStates.bases(tenantId, reader, threadIds);
  }

  putReadMark(tenantId: string, threadId: string, reader: string, mark: ReadMark, expectedRevision: string | null): Promise<boolean> {
    return this.#readStates.put(tenantId, threadId, reader, mark, expectedRevision, Math.floor(Date.now() / 1000));
  }

  async ping(): Promise<boolean> {
    if (this.#closing) return false;
    try {
      await sql`select 1`.execute(this.#db);
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#db.destroy();
    return this.#closing;
  }

  /** Called after a fenced write touched nothing: says whether it was fenced off or the thread is missing. */
  async #explainFenced(db: Kysely<Database>, tenantId: string, threadId: string, epoch: number): Promise<never> {
    const row = await db
      .selectFrom("threads")
      .select("owner_epoch")
      .where("tenant_id", "=", tenantId)
      .where("id", "=", threadId)
      .executeTakeFirst();
    if (row && row.owner_epoch > epoch) throw new StaleEpochError(threadId, epoch, row.owner_epoch);
    throw new MissingThreadError(threadId);
  }

  async #insertHistory(db: Kysely<Database>, batch: HistoryBatch, epoch: number): Promise<void> {
    const values: Record<string, unknown> = { tenantId: batch.tenantId, threadId: batch.threadId, epoch };
    batch.rows.forEach((e, i) => {
      values[`turnId${i}`] = e.turnId;
      values[`ordinal${i}`] = e.ordinal;
      values[`entry${i}`] = JSON.stringify(e.entry);
    });
    const r = await this.#writes.appendHistory(batch.rows.length).execute(db, values);
    if (!r.numAffectedRows) await this.#explainFenced(db, batch.tenantId, batch.threadId, epoch);
  }
}
