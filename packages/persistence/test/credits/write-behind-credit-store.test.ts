import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "node:test";
import { WriteBehindCreditStore } from "@threadmesh/ratelimit";
import { openCreditStore } from "../../src/index.ts";
import { creditStoreBehaviour } from "./credit-store-behaviour.ts";

describe("credit store on SQLite behind the in-memory admission mirror (embedded topology)", () => {
  creditStoreBehaviour(async () => {
    const dir = await mkdtemp(join(tmpdir(), "tm-credits-wb-"));
    const durable = await openCreditStore({ url: `sqlite:${join(dir, "credits.db")}` });
    const errors: unknown[] = [];
    const store = new WriteBehindCreditStore(durable, { onWriteError: (err) => errors.push(err) });
    return {
      store,
      other: store,
      durable: { store: durable, flush: () => store.flush() },
      async close() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
        if (errors.length > 0) throw new Error(`queued writes failed: ${String(errors[0])}`);
      },
    };
  });
});
