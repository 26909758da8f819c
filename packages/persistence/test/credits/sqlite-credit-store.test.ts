import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "node:test";
import { openCreditStore } from "../../src/index.ts";
import { creditStoreBehaviour } from "./credit-store-behaviour.ts";

describe("credit store on SQLite", () => {
  creditStoreBehaviour(async () => {
    const dir = await mkdtemp(join(tmpdir(), "tm-credits-"));
    const store = await openCreditStore({ url: `sqlite:${join(dir, "credits.db")}` });
    // One embedded process holds one store: "another host" is the same store.
    return {
      store,
      other: store,
      async close() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});
