import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus, MemoryEventLog } from "@threadmesh/mesh";
import { openStore, type ThreadRecord, type ThreadStore } from "@threadmesh/persistence";
import { ThreadEvents } from "../src/thread-events.ts";
import { ANSWERED, HOST_STOPPED_ERROR, claimStoredThread, continuable } from "../src/thread-loader.ts";
import type { UnfinishedTurn } from "../src/window-recovery.ts";

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

/** A SQLite store and an in-memory event window on an in-process bus, removed after `fn`. */
async function withRecoveryFixture(fn: (f: { bus: InProcessBus; log: MemoryEventLog; store: ThreadStore }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tm-recovery-"));
  const bus = new InProcessBus();
  const log = new MemoryEventLog(bus);
  const store = await openStore({ url: `sqlite:${join(dir, "t.db")}` });
  try {
    await fn({ bus, log, store });
  } finally {
    await store.close();
    await log.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("adopting a thread whose owner died ends the turn its clients saw start and writes back the items it announced", () =>
  withRecoveryFixture(async ({ bus, log, store }) => {
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
  }));

test("adopting a thread whose owner died mid-stream keeps the turn running: its input is the last step", () =>
  withRecoveryFixture(async ({ bus, log, store }) => {
    const threadId = "th-continue";
    await store.createThread(record(threadId));
    // The dead owner announced the turn, its input, and an answer that was still streaming.
    const events = new ThreadEvents({ bus, tenant: TENANT, threadId, epoch: 1, lastSeq: 0 });
    const input = { type: "userMessage", id: "in-1", clientId: null, content: [{ type: "text", text: "tell me", text_elements: [] }], startedAtMs: 1, completedAtMs: 1 };
    const partial = { type: "agentMessage", id: "msg-1", text: "", phase: null, moderation: null, memoryCitation: null, delivery: null, questions: null, startedAtMs: 2, completedAtMs: null };
    events.notify("turn/started", { threadId, turn: { id: "turn-1", startedAt: 5 } });
    events.notify("item/started", { threadId, turnId: "turn-1", item: input, startedAtMs: 1 });
    events.notify("item/completed", { threadId, turnId: "turn-1", item: input, completedAtMs: 1 });
    events.notify("item/started", { threadId, turnId: "turn-1", item: partial, startedAtMs: 2 });
    events.notify("item/agentMessage/delta", { threadId, turnId: "turn-1", itemId: "msg-1", delta: "hal" });
    await bus.flush();

    const state = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, threadId))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 2, eventLog: log, recover: true, continueTurns: true });

    assert.equal(state.continuedTurn?.id, "turn-1");
    assert.equal(state.continuedTurn?.startedAt, 5);
    assert.equal(state.abandonedTurn ?? null, null);
    assert.ok(JSON.stringify(state.history.at(-1)).includes("tell me"), "the history ends with the turn's input, ready for a new request");
    assert.ok(!JSON.stringify(state.history).includes("turn_aborted"));
    assert.equal(state.nextTurnOrdinal, 1, "the continued turn keeps its ordinal");
  }));

test("a continued turn whose new owner dies too continues again: the turn started two owners back", () =>
  withRecoveryFixture(async ({ bus, log, store }) => {
    const threadId = "th-twice";
    await store.createThread(record(threadId));
    const input = { type: "userMessage", id: "in-1", clientId: null, content: [{ type: "text", text: "tell me", text_elements: [] }], startedAtMs: 1, completedAtMs: 1 };
    const partial = (id: string) => ({ type: "agentMessage", id, text: "", phase: null, moderation: null, memoryCitation: null, delivery: null, questions: null, startedAtMs: 2, completedAtMs: null });
    const first = new ThreadEvents({ bus, tenant: TENANT, threadId, epoch: 1, lastSeq: 0 });
    first.notify("turn/started", { threadId, turn: { id: "turn-1", startedAt: 5 } });
    first.notify("item/started", { threadId, turnId: "turn-1", item: input, startedAtMs: 1 });
    first.notify("item/completed", { threadId, turnId: "turn-1", item: input, completedAtMs: 1 });
    first.notify("item/started", { threadId, turnId: "turn-1", item: partial("msg-1"), startedAtMs: 2 });
    await bus.flush();
    const claim = async (epoch: number) =>
      claimStoredThread(store, TENANT, (await store.getThread(TENANT, threadId))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch, eventLog: log, recover: true, continueTurns: true });
    const second = await claim(2);
    assert.equal(second.continuedTurn?.id, "turn-1");
    await store.putTurn({ ...second.continuedTurn!, tenantId: TENANT, threadId }, 2);

    // The second owner shows the thread active and streams a new answer, then dies as well.
    const again = new ThreadEvents({ bus, tenant: TENANT, threadId, epoch: 2, lastSeq: second.record.lastSeq });
    again.activeTurn = "turn-1";
    again.notify("thread/status/changed", { threadId, status: { type: "active", activeFlags: [] } });
    again.notify("item/started", { threadId, turnId: "turn-1", item: partial("msg-2"), startedAtMs: 3 });
    await bus.flush();
    const third = await claim(3);
    assert.equal(third.continuedTurn?.id, "turn-1", "still at a safe point: its input is the last step");
    assert.equal(third.abandonedTurn ?? null, null);
    assert.equal(third.nextTurnOrdinal, 1);
  }));

test("a handed-over turn whose answer was whole ends completed on its adopter, not interrupted, and is not asked of the model again", () =>
  withRecoveryFixture(async ({ bus, log, store }) => {
    const threadId = "th-answered";
    await store.createThread(record(threadId));
    // The owner streamed the whole answer and let go of the thread before it stored the turn's end.
    const events = new ThreadEvents({ bus, tenant: TENANT, threadId, epoch: 1, lastSeq: 0 });
    const input = { type: "userMessage", id: "in-1", clientId: null, content: [{ type: "text", text: "tell me", text_elements: [] }], startedAtMs: 1, completedAtMs: 1 };
    const answer = { type: "agentMessage", id: "msg-1", text: "the whole answer", phase: null, moderation: null, memoryCitation: null, delivery: null, questions: null, startedAtMs: 2, completedAtMs: 3 };
    events.notify("turn/started", { threadId, turn: { id: "turn-1", startedAt: 5 } });
    events.notify("item/started", { threadId, turnId: "turn-1", item: input, startedAtMs: 1 });
    events.notify("item/completed", { threadId, turnId: "turn-1", item: input, completedAtMs: 1 });
    events.notify("item/started", { threadId, turnId: "turn-1", item: { ...answer, text: "", completedAtMs: null }, startedAtMs: 2 });
    events.notify("item/completed", { threadId, turnId: "turn-1", item: answer, completedAtMs: 3 });
    await bus.flush();

    const state = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, threadId))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 2, eventLog: log, recover: true, continueTurns: true });

    assert.equal(state.continuedTurn ?? null, null, "not continued: the model would answer twice");
    assert.equal(state.abandonedTurn?.id, "turn-1");
    assert.equal(state.abandonedTurn?.status, "completed");
    assert.equal(state.abandonedTurn?.error, null);
    assert.equal(state.abandonReason, ANSWERED);
    assert.equal(await store.getTurn(TENANT, threadId, "turn-1").then((t) => t?.status), "completed");
    assert.ok(!JSON.stringify(state.history).includes("turn_aborted"), "no abort marker for a turn that completed");
    assert.ok(JSON.stringify(state.history.at(-1)).includes("the whole answer"));

    // The same answer without its input (nothing of the turn's request known) still ends interrupted.
    const other = "th-answer-only";
    await store.createThread(record(other));
    const e2 = new ThreadEvents({ bus, tenant: TENANT, threadId: other, epoch: 1, lastSeq: 0 });
    e2.notify("turn/started", { threadId: other, turn: { id: "turn-2", startedAt: 5 } });
    e2.notify("item/completed", { threadId: other, turnId: "turn-2", item: { ...answer, id: "msg-2" }, completedAtMs: 3 });
    await bus.flush();
    const s2 = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, other))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 2, eventLog: log, recover: true, continueTurns: true });
    assert.equal(s2.abandonedTurn?.status, "interrupted");
  }));

test("a turn stored as started of which the window holds nothing runs on from its stored input, or ends interrupted without it", () =>
  withRecoveryFixture(async ({ bus, log, store }) => {
    // The owner stored the turn and its input, then its lease lapsed before the turn's first event went out.
    const threadId = "th-silent";
    await store.createThread(record(threadId));
    const earlier = new ThreadEvents({ bus, tenant: TENANT, threadId, epoch: 1, lastSeq: 0 });
    earlier.notify("thread/status/changed", { threadId, status: { type: "idle" } });
    await bus.flush();
    await store.putTurn({ tenantId: TENANT, threadId, id: "turn-1", ordinal: 0, status: "inProgress", error: null, startedAt: 5, completedAt: null, durationMs: null }, 1);
    await store.appendHistory([{ tenantId: TENANT, threadId, turnId: "turn-1", ordinal: 0, entry: { type: "message", role: "user", content: [{ type: "input_text", text: "tell me" }] } }], 1);

    const state = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, threadId))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 2, eventLog: log, recover: true, continueTurns: true });
    assert.equal(state.continuedTurn?.id, "turn-1", "nothing of it reached a client: it runs on from its input");
    assert.equal(state.abandonedTurn ?? null, null);
    assert.equal(state.record.lastSeq, 1, "seq continues after the window");

    // Stored without its input: nothing to ask the model, so it ends interrupted as before.
    const bare = "th-silent-bare";
    await store.createThread(record(bare));
    await store.putTurn({ tenantId: TENANT, threadId: bare, id: "turn-2", ordinal: 0, status: "inProgress", error: null, startedAt: 5, completedAt: null, durationMs: null }, 1);
    const s2 = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, bare))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 2, eventLog: log, recover: true, continueTurns: true });
    assert.equal(s2.abandonedTurn?.status, "interrupted");
    assert.equal(s2.abandonReason, "nothing of the turn is in the history");

    // A turn the window shows ended is not taken for a silent one.
    const ended = "th-ended";
    await store.createThread(record(ended));
    const e3 = new ThreadEvents({ bus, tenant: TENANT, threadId: ended, epoch: 1, lastSeq: 0 });
    e3.notify("turn/started", { threadId: ended, turn: { id: "turn-3", startedAt: 5 } });
    e3.notify("turn/completed", { threadId: ended, turn: { id: "turn-3", status: "completed" } });
    await bus.flush();
    await store.putTurn({ tenantId: TENANT, threadId: ended, id: "turn-3", ordinal: 0, status: "inProgress", error: null, startedAt: 5, completedAt: null, durationMs: null }, 1);
    await store.appendHistory([{ tenantId: TENANT, threadId: ended, turnId: "turn-3", ordinal: 0, entry: { type: "message", role: "user", content: [{ type: "input_text", text: "go" }] } }], 1);
    const s3 = await claimStoredThread(store, TENANT, (await store.getThread(TENANT, ended))!, { abandonedTurnError: HOST_STOPPED_ERROR, epoch: 2, eventLog: log, recover: true, continueTurns: true });
    assert.equal(s3.continuedTurn ?? null, null, "its clients saw it end: it is not run again");
    assert.equal(s3.abandonReason, "the event window holds no unfinished turn");
  }));

test("a turn continues only from a safe point: its input or a tool result, with nothing running or waiting", () => {
  const user = { type: "message", role: "user", content: [{ type: "input_text", text: "go" }] };
  const assistant = { type: "message", role: "assistant", content: [{ type: "output_text", text: "done", annotations: [] }] };
  const call = { type: "function_call", call_id: "c1", name: "shell", arguments: "{}" };
  const output = { type: "function_call_output", call_id: "c1", output: "ok" };
  const aborted = { type: "message", role: "user", content: [{ type: "input_text", text: "<turn_aborted>\n</turn_aborted>" }] };
  const turn = (patch: Partial<UnfinishedTurn> = {}): UnfinishedTurn => ({ id: "t", startedAt: 1, openItems: [], completedItems: [], ...patch });
  const request = { tenantId: TENANT, threadId: "th", requestKey: "k", turnId: "t", itemId: "c2", method: "item/commandExecution/requestApproval", params: {}, seq: 3, createdAt: 1 };

  assert.equal(continuable(turn({ openItems: [{ id: "m", type: "agentMessage" }] }), [user], []), true, "input last, an answer was streaming");
  assert.equal(continuable(turn({ completedItems: [{ id: "c1", type: "commandExecution" }] }), [user, call, output], []), true, "a tool result last");
  assert.equal(continuable(turn({ openItems: [{ id: "c2", type: "commandExecution" }] }), [user, call, output], []), false, "a command was running");
  assert.equal(continuable(turn({ completedItems: [{ id: "c2", type: "fileChange" }] }), [user, call, output], []), false, "a tool's result never reached the history");
  assert.equal(continuable(turn(), [user, assistant], []), false, "an answer was complete: it would come twice");
  assert.equal(continuable(turn(), [user], [request]), false, "an approval was waiting");
  assert.equal(continuable(turn(), [], []), false, "nothing of the turn is stored");
  assert.equal(continuable(turn(), [user, aborted], []), false, "the turn was already ended");
});
