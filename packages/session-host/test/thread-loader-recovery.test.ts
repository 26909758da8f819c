import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus, MemoryEventLog } from "@threadmesh/mesh";
import { openStore, type ThreadRecord } from "@threadmesh/persistence";
import { ThreadEvents } from "../src/thread-events.ts";
import { HOST_STOPPED_ERROR, claimStoredThread } from "../src/thread-loader.ts";

const TENANT = "t1";

function record(id: string): ThreadRecord {
  return {
    tenantId: TENANT,
    id,
    forkedFromId: null,
    name: null,
    preview: "",
    cwd: "/tmp",
    ephemeral: false,
    archived: false,
    materialized: true,
    status: { type: "idle" },
    settings: { model: "m", modelProvider: "openai", reasoningEffort: null, approvalPolicy: "never", approvalsReviewer: "user", sandbox: { type: "readOnly" }, baseInstructions: null, developerInstructions: null, serviceTier: null, dynamicTools: null },
    tokenUsage: null,
    originator: null,
    source: "appServer",
    createdAt: 1,
    updatedAt: 1,
    ownerEpoch: 1,
    lastSeq: 0,
  };
}

test("adopting a thread whose owner died ends the turn its clients saw start and writes back the items it announced", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-recovery-"));
  const bus = new InProcessBus();
  const log = new MemoryEventLog(bus);
  const store = await openStore({ url: `sqlite:${join(dir, "t.db")}` });
  try {
    const threadId = "th-recovery";
    await store.createThread(record(threadId));
    // The dead owner (epoch 1) published a turn's start and a completed message, then died before its
    // writer stored either the turn or the item.
    const events = new ThreadEvents({ bus, tenant: TENANT, threadId, epoch: 1, lastSeq: 0 });
    const item = { type: "agentMessage", id: "msg-1", text: "half an answer", phase: null, moderation: null, memoryCitation: null, delivery: null, questions: null, startedAtMs: 1, completedAtMs: 2 };
    events.notify("turn/started", { threadId, turn: { id: "turn-1", startedAt: 5 } });
    events.notify("item/completed", { threadId, turnId: "turn-1", item, completedAtMs: 2 });
    await bus.flush();

    const state = await claimStoredThread(store, TENANT, await store.getThread(TENANT, threadId).then((r) => r!), {
      abandonedTurnError: HOST_STOPPED_ERROR,
      epoch: 2,
      eventLog: log,
      recover: true,
    });

    assert.equal(state.record.lastSeq, 2, "the new owner continues after the last published seq");
    assert.equal(state.abandonedTurn?.id, "turn-1");
    assert.equal(state.abandonedTurn?.status, "interrupted");
    assert.deepEqual(state.abandonedTurn?.error, HOST_STOPPED_ERROR);
    assert.deepEqual(await store.getTurn(TENANT, threadId, "turn-1").then((t) => t?.status), "interrupted");
    const stored = await store.listItems(TENANT, threadId, { limit: 10, sortDirection: "asc" });
    assert.deepEqual(stored.data.map((r) => [r.turnId, r.item.id]), [["turn-1", "msg-1"]]);
    const history = (await store.loadHistory(TENANT, threadId)).map((h) => JSON.stringify(h.entry));
    assert.ok(history.some((h) => h.includes("half an answer")), "the message joins the model history");
    assert.equal(state.nextTurnOrdinal, 1);
    assert.equal(state.nextItemOrdinal, 1);

    // A second adoption finds everything stored and adds nothing twice.
    const again = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, threadId))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 3, eventLog: log, recover: true });
    assert.equal(again.abandonedTurn ?? null, null);
    assert.equal((await store.listItems(TENANT, threadId, { limit: 10, sortDirection: "asc" })).data.length, 1);
  } finally {
    await store.close();
    await log.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
