import { describe } from "node:test";
import { createTestDatabase } from "../../../../test/support/postgres.ts";
import { openCreditStore } from "../../src/index.ts";
import { creditStoreBehaviour } from "./credit-store-behaviour.ts";

describe("credit store on PostgreSQL", () => {
  creditStoreBehaviour(async () => {
    const db = await createTestDatabase();
    if (db === null) return null;
    const store = await openCreditStore({ url: db.url });
    const other = await openCreditStore({ url: db.url, migrate: false });
    return {
      store,
      other,
      async close() {
        await store.close();
        await other.close();
        await db.drop();
      },
    };
  });
});
