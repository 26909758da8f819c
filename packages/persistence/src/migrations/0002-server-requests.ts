import type { Kysely, Migration } from "kysely";

/**
 * Server requests a thread's owner is waiting on (approvals, user input, dynamic tool calls), so that a
 * host adopting the thread can resolve them for clients. Replaces `pending_requests` of 0001, which
 * nothing ever wrote and which lacked the turn, item and issue order.
 */
export const migration0002ServerRequests: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable("pending_requests").execute();
    await db.schema
      .createTable("server_requests")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("request_key", "text", (c) => c.notNull())
      .addColumn("turn_id", "text", (c) => c.notNull())
      .addColumn("item_id", "text")
      .addColumn("method", "text", (c) => c.notNull())
      .addColumn("params", "text", (c) => c.notNull())
      // Event sequence number of the request: orders a thread's requests across owners.
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("server_requests_pk", ["tenant_id", "thread_id", "request_key"])
      .execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable("server_requests").execute();
    await db.schema
      .createTable("pending_requests")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("thread_id", "text", (c) => c.notNull())
      .addColumn("request_key", "text", (c) => c.notNull())
      .addColumn("method", "text", (c) => c.notNull())
      .addColumn("params", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("pending_requests_pk", ["tenant_id", "thread_id", "request_key"])
      .execute();
  },
};
