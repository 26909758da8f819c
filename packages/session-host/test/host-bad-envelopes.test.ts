import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelope, placeSubject, threadCommandSubject, type ReplyEnvelope } from "@threadmesh/protocol";
import { startHarness, startThread, TENANT, type Harness } from "./host-harness.ts";

const GARBAGE = new TextEncoder().encode("{not an envelope");

describe("session host: undecodable command envelopes", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  async function replyTo(subject: string): Promise<ReplyEnvelope> {
    const msg = await h.bus.request(subject, GARBAGE, { timeoutMs: 10_000 });
    return decodeEnvelope<ReplyEnvelope>(msg.data);
  }

  test("on the placement subject and on a thread's subject they are answered -32600, and the thread still serves", async () => {
    const { threadId } = await startThread(h.client);
    for (const subject of [placeSubject(TENANT), threadCommandSubject(TENANT, threadId)]) {
      const reply = await replyTo(subject);
      assert.equal(reply.ok, false, subject);
      assert.deepEqual(!reply.ok && { code: reply.error.code, message: reply.error.message }, { code: -32600, message: "Invalid request: unsupported command envelope" }, subject);
    }
    const read = await h.client.call("thread/read", { threadId });
    assert.equal(read.thread.id, threadId);
  });
});
