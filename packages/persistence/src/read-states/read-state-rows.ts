import type { Kysely } from "kysely";
import type { Database } from "../database.ts";
import type { ReadMark, ReadStateBasis, TurnRef } from "./read-state-types.ts";

/** The `read_states` rows of `ThreadStore`, with the ended turns a reader's state is computed from. */
export class ReadStateRows {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async bases(tenantId: string, reader: string, threadIds: readonly string[]): Promise<Map<string, ReadStateBasis>> {
    const out = new Map<string, ReadStateBasis>();
    if (threadIds.length === 0) return out;
    const ids = [...new Set(threadIds)];
    const [marks, ended] = await Promise.all([
      this.#db
        .selectFrom("read_states")
        .select(["thread_id", "mark", "seen_ordinal", "revision"])
        .where("tenant_id", "=", tenantId)
        .where("reader", "=", reader)
        .where("thread_id", "in", ids)
        .execute(),
      this.#db
        .selectFrom("turns")
        .select(["thread_id", "id", "ordinal"])
        .where("tenant_id", "=", tenantId)
        .where("thread_id", "in", ids)
        .where("status", "!=", "inProgress")
        .orderBy("thread_id")
        .orderBy("ordinal")
        .execute(),
    ]);
    for (const id of ids) out.set(id, { mark: null, ended: [] });
    for (const m of marks) out.get(m.thread_id)!.mark = { mark: m.mark, seenOrdinal: Number(m.seen_ordinal), revision: m.revision };
    for (const t of ended) out.get(t.thread_id)!.ended.push({ id: t.id, ordinal: Number(t.ordinal) } satisfies TurnRef);
    return out;
  }

  async put(tenantId: string, threadId: string, reader: string, next: ReadMark, expectedRevision: string | null, now: number): Promise<boolean> {
    if (expectedRevision === null) {
      const r = await this.#db
        .insertInto("read_states")
        .values({ tenant_id: tenantId, thread_id: threadId, reader, mark: next.mark, seen_ordinal: next.seenOrdinal, revision: next.revision, updated_at: now })
        .onConflict((oc) => oc.columns(["tenant_id", "thread_id", "reader"]).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    }
    const r = await this.#db
      .updateTable("read_states")
      .set({ mark: next.mark, seen_ordinal: next.seenOrdinal, revision: next.revision, updated_at: now })
      .where("tenant_id", "=", tenantId)
      .where("thread_id", "=", threadId)
      .where("reader", "=", reader)
      .where("revision", "=", expectedRevision)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
