import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeliveryAudit, observeDelivered, scriptedChunks } from "../../bench/support/delivery-audit.ts";

type Json = Record<string, any>;

const T = "thread-1";
const TURN = "turn-1";

/** What a client receives for one turn answered with `chunks`, one delta frame per entry of `frames`. */
function turnFrames(frames: readonly string[], completedText: string, status = "completed"): Json[] {
  return [
    ...frames.map((delta) => ({ method: "item/agentMessage/delta", params: { threadId: T, turnId: TURN, itemId: "a1", delta } })),
    { method: "item/completed", params: { threadId: T, turnId: TURN, item: { type: "agentMessage", id: "a1", text: completedText } } },
    { method: "turn/completed", params: { threadId: T, turn: { id: TURN, status } } },
  ];
}

function audited(frames: Json[]): DeliveryAudit {
  const audit = new DeliveryAudit();
  audit.expect(TURN, { threadId: T, chunks: scriptedChunks(10, "x") });
  audit.observe(frames);
  return audit;
}

describe("delivery audit: a run that lost anything is not clean", () => {
  const chunks = scriptedChunks(10, "x");
  const text = chunks.join("");

  test("every delta, in order, with the completed text: clean", () => {
    const audit = audited(turnFrames(chunks, text));
    assert.equal(audit.clean, true);
    assert.deepEqual(audit.summary(), { turns: 1, sentDeltas: 10, deliveredDeltas: 10, deltaFrames: 10, turnsByStatus: { completed: 1 }, failures: [] });
  });

  test("deltas coalesced into fewer frames, the text exact: clean", () => {
    const audit = audited(turnFrames([chunks.slice(0, 4).join(""), chunks.slice(4).join("")], text));
    assert.equal(audit.clean, true);
    assert.equal(audit.summary().deliveredDeltas, 10);
    assert.equal(audit.summary().deltaFrames, 2);
  });

  test("a dropped delta fails", () => {
    const audit = audited(turnFrames([...chunks.slice(0, 3), ...chunks.slice(4)], text));
    assert.equal(audit.clean, false);
    assert.equal(audit.summary().deliveredDeltas, 9);
    assert.match(audit.summary().failures[0]!, /9 of 10 deltas arrived/);
  });

  test("deltas out of order fail even when all arrived", () => {
    const swapped = [chunks[1]!, chunks[0]!, ...chunks.slice(2)];
    const audit = audited(turnFrames(swapped, text));
    assert.equal(audit.clean, false);
  });

  test("a completed text other than the one sent fails", () => {
    const audit = audited(turnFrames(chunks, `${text} and more`));
    assert.match(audit.summary().failures[0]!, /completed text/);
  });

  test("a turn that did not complete fails", () => {
    const audit = audited(turnFrames(chunks, text, "failed"));
    assert.match(audit.summary().failures[0]!, /status failed/);
  });

  test("a turn that never arrived fails and counts as sent", () => {
    const audit = new DeliveryAudit();
    audit.expect(TURN, { threadId: T, chunks });
    assert.equal(audit.clean, false);
    assert.equal(audit.summary().sentDeltas, 10);
    assert.equal(audit.summary().deliveredDeltas, 0);
    assert.match(audit.summary().failures[0]!, /never observed/);
  });
});

describe("observeDelivered: each client's turns audited against its own frames, totals summed", () => {
  const client = (turnId: string, threadId: string, frames: readonly string[], text: string) => {
    const kept: Json[] = [
      ...frames.map((delta) => ({ method: "item/agentMessage/delta", params: { threadId, turnId, itemId: `i-${turnId}`, delta } })),
      { method: "item/completed", params: { threadId, turnId, item: { type: "agentMessage", id: `i-${turnId}`, text } } },
      { method: "turn/completed", params: { threadId, turn: { id: turnId, status: "completed" } } },
    ];
    return { auditFrames: () => kept.splice(0) };
  };

  test("two clients, one coalesced: deltas and frames summed over both", () => {
    const a = scriptedChunks(6, "a");
    const b = scriptedChunks(4, "b");
    const audit = new DeliveryAudit();
    audit.expect("ta", { threadId: "A", chunks: a });
    audit.expect("tb", { threadId: "B", chunks: b });
    const ca = client("ta", "A", a, a.join(""));
    const cb = client("tb", "B", [b.slice(0, 3).join(""), b[3]!], b.join(""));
    assert.deepEqual(observeDelivered(audit, [{ client: ca, turnId: "ta" }, { client: cb, turnId: "tb" }]), { deltas: 10, frames: 8 });
    assert.equal(audit.clean, true);
  });

  test("a turn looked for on the wrong client is lost", () => {
    const a = scriptedChunks(3, "a");
    const audit = new DeliveryAudit();
    audit.expect("ta", { threadId: "A", chunks: a });
    const other = client("tx", "X", a, a.join(""));
    assert.deepEqual(observeDelivered(audit, [{ client: other, turnId: "ta" }]), { deltas: 0, frames: 0 });
    assert.equal(audit.clean, false);
  });
});
