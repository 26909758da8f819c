import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  assertEpochsNeverGoBack,
  assertInvariants,
  assertNoRepeatedHistory,
  assertSeenItemsStored,
  assertSeqContinuity,
  assertTurnsEnded,
  type Json,
} from "./invariants.ts";

const T = "thread-1";
const user = { type: "userMessage", id: "u1", content: [{ type: "text", text: "hi", text_elements: [] }] };
const answer = { type: "agentMessage", id: "a1", text: "hello there" };

/** A clean subscriber feed of one turn: started, two items completed, completed; seq 5…9, epoch 1 then 2. */
function feed(): Json[] {
  return [
    { method: "turn/started", params: { threadId: T, turn: { id: "turn-1", status: "inProgress" } }, seq: 5, epoch: 1 },
    { method: "item/completed", params: { threadId: T, turnId: "turn-1", item: user }, seq: 6, epoch: 1 },
    { method: "item/agentMessage/delta", params: { threadId: T, turnId: "turn-1", itemId: "a1", delta: "hello there" }, seq: 7, epoch: 2 },
    { method: "item/completed", params: { threadId: T, turnId: "turn-1", item: answer }, seq: 8, epoch: 2 },
    { method: "turn/completed", params: { threadId: T, turn: { id: "turn-1", status: "completed" } }, seq: 9, epoch: 2 },
  ];
}

const stored = (): Json[] => [{ id: "turn-1", status: "completed", items: [structuredClone(user), structuredClone(answer)] }];

const userMsg = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });
const assistantMsg = (text: string) => ({ type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] });
const history = (): Json[] => [
  userMsg("ready?"),
  assistantMsg("ready"),
  userMsg("run it"),
  { type: "function_call", call_id: "call-1", name: "shell", arguments: "{}" },
  { type: "function_call_output", call_id: "call-1", output: "ok" },
  assistantMsg("done"),
];

describe("chaos invariants accept a clean sample and reject a violating one", () => {
  test("every turn ends", () => {
    assert.doesNotThrow(() => assertTurnsEnded(feed(), "clean", ["turn-1"]));
    assert.doesNotThrow(() => assertTurnsEnded([...feed().slice(0, 4), { ...feed()[4]!, params: { threadId: T, turn: { id: "turn-1", status: "interrupted" } } }], "interrupted"));
    assert.throws(() => assertTurnsEnded(feed().slice(0, 4), "no end"), /turn turn-1 ended 0 times/);
    assert.throws(() => assertTurnsEnded([...feed(), feed()[4]!], "two ends"), /turn turn-1 ended 2 times/);
    assert.throws(() => assertTurnsEnded(feed(), "a turn never seen", ["turn-2"]), /turn turn-2 ended 0 times/);
    const failed = [...feed().slice(0, 4), { ...feed()[4]!, params: { threadId: T, turn: { id: "turn-1", status: "failed" } } }];
    assert.throws(() => assertTurnsEnded(failed, "failed"), /ended failed/);
  });

  test("every item a client saw completed is stored once, in its turn, with the same content", () => {
    assert.doesNotThrow(() => assertSeenItemsStored(stored(), feed(), "clean"));
    const missing = stored();
    missing[0]!.items.pop();
    assert.throws(() => assertSeenItemsStored(missing, feed(), "missing"), /agentMessage a1 is stored 0 times/);
    const twice = stored();
    twice[0]!.items.push(structuredClone(answer));
    assert.throws(() => assertSeenItemsStored(twice, feed(), "twice"), /agentMessage a1 is stored 2 times/);
    const changed = stored();
    changed[0]!.items[1]!.text = "hello";
    assert.throws(() => assertSeenItemsStored(changed, feed(), "changed"), /differs from what the client saw/);
    const noTurn: Json[] = [{ id: "turn-0", status: "completed", items: [] }];
    assert.throws(() => assertSeenItemsStored(noTurn, feed(), "no turn"), /turn turn-1 of completed userMessage u1 is stored/);
    const otherTurn = [...stored(), { id: "turn-2", status: "completed", items: [structuredClone(answer)] }];
    assert.throws(() => assertSeenItemsStored(otherTurn, feed(), "other turn"), /stored in other turns too/);
  });

  test("no duplicate in the model history", () => {
    const aborted = userMsg("<turn_aborted>\nThe user interrupted the previous turn on purpose.\n</turn_aborted>");
    assert.doesNotThrow(() => assertNoRepeatedHistory([{ input: history() }, { input: [...history(), aborted, userMsg("again"), aborted] }], "clean"));
    assert.throws(() => assertNoRepeatedHistory([{ input: [...history(), assistantMsg("done")] }], "message"), /request 1 repeats assistant message/);
    assert.throws(() => assertNoRepeatedHistory([{ input: history() }, { input: [...history(), userMsg("run it")] }], "input"), /request 2 repeats user message/);
    const call = { type: "function_call", call_id: "call-1", name: "shell", arguments: '{"other":1}' };
    assert.throws(() => assertNoRepeatedHistory([{ input: [...history(), call] }], "call"), /repeats function_call call-1/);
    const output = { type: "function_call_output", call_id: "call-1", output: "again" };
    assert.throws(() => assertNoRepeatedHistory([{ input: [...history(), output] }], "output"), /repeats function_call_output call-1/);
  });

  test("each subscriber's seq runs without gaps or repeats", () => {
    assert.doesNotThrow(() => assertSeqContinuity(feed(), "clean"));
    const gap = feed().filter((f) => f.seq !== 7);
    assert.throws(() => assertSeqContinuity(gap, "gap"), /seq 8 after 6/);
    const repeat = [...feed().slice(0, 3), feed()[2]!, ...feed().slice(3)];
    assert.throws(() => assertSeqContinuity(repeat, "repeat"), /seq 7 after 7/);
    const back = [...feed().slice(0, 2), feed()[3]!, feed()[2]!, feed()[4]!];
    assert.throws(() => assertSeqContinuity(back, "reordered"), /seq 8 after 6/);
  });

  test("no event of an older epoch follows a newer one", () => {
    assert.doesNotThrow(() => assertEpochsNeverGoBack(feed(), "clean"));
    const stale = feed();
    stale[3] = { ...stale[3]!, epoch: 1 };
    assert.throws(() => assertEpochsNeverGoBack(stale, "stale"), /item\/completed of epoch 1 after epoch 2/);
    const unstamped = feed();
    delete unstamped[4]!.epoch;
    assert.throws(() => assertEpochsNeverGoBack(unstamped, "unstamped"), /of epoch undefined after epoch 2/);
  });

  test("a sample is held to all five at once", () => {
    const clean = { what: "clean", events: feed(), mustEnd: ["turn-1"], stored: stored(), modelRequests: [{ input: history() }] };
    assert.doesNotThrow(() => assertInvariants(clean));
    assert.throws(() => assertInvariants({ ...clean, mustEnd: ["turn-2"] }), /turn turn-2 ended 0 times/);
    assert.throws(() => assertInvariants({ ...clean, stored: [{ id: "turn-1", status: "completed", items: [structuredClone(user)] }] }), /agentMessage a1 is stored 0 times/);
    assert.throws(() => assertInvariants({ ...clean, modelRequests: [{ input: [...history(), assistantMsg("done")] }] }), /repeats assistant message/);
    assert.throws(() => assertInvariants({ ...clean, events: feed().filter((f) => f.seq !== 7) }), /seq 8 after 6/);
    const stale = feed();
    stale[3] = { ...stale[3]!, epoch: 1 };
    assert.throws(() => assertInvariants({ ...clean, events: stale }), /epoch 1 after epoch 2/);
  });
});
