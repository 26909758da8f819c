import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { settle, startRouter, type TestClient } from "./harness.ts";

/** Bound on publish rounds: the kernel's socket buffers must fill before the router buffers anything. */
const MAX_ROUNDS = 2_000;

function socketOf(c: TestClient): Socket {
  return (c.ws as unknown as { _socket: Socket })._socket;
}

test("a slow consumer loses deltas above the high-water mark, keeps everything else, and is closed with 1013 and a resume cursor", async () => {
  const h = await startRouter({ outboundHighWaterBytes: 256 * 1024, outboundMaxBytes: 1024 * 1024 });
  const a = await h.client();
  const b = await h.client();
  const t = (await a.request("thread/start", {})).result as { thread: { id: string } };
  const threadId = t.thread.id;
  await b.request("thread/resume", { threadId });
  socketOf(a).pause();

  const delta = "x".repeat(16 * 1024);
  let deltas = 0;
  const kept: number[] = [];
  for (let i = 0; i < MAX_ROUNDS && (await h.metric("tm_router_outbound_dropped_total", { reason: "slowConsumer" })) === 0; i++) {
    for (let j = 0; j < 16; j++) {
      h.host.notify(threadId, "item/agentMessage/delta", { threadId, itemId: "m", delta });
      deltas++;
    }
    await settle(h.bus);
  }
  assert.ok((await h.metric("tm_router_outbound_dropped_total", { reason: "slowConsumer" })) > 0, "deltas were dropped");

  kept.push(h.host.notify(threadId, "item/completed", { threadId, item: { type: "agentMessage", id: "m", text: "full text" } }));
  await settle(h.bus);
  const pad = "y".repeat(64 * 1024);
  for (let i = 0; i < MAX_ROUNDS && (await h.metric("tm_router_connections_closed_total", { reason: "outboundFull" })) === 0; i++) {
    kept.push(h.host.notify(threadId, "item/started", { threadId, item: { id: `i${i}` }, pad }));
    await settle(h.bus);
  }
  assert.equal(await h.metric("tm_router_connections_closed_total", { reason: "outboundFull" }), 1);

  socketOf(a).resume();
  const closed = await a.closed;
  assert.equal(closed.code, 1013);
  const m = /^outbound queue full; resume with afterSeq=(\d+)$/.exec(closed.reason);
  assert.ok(m, closed.reason);
  const afterSeq = Number(m[1]);

  const received = a.frames.filter((f) => typeof f.seq === "number");
  const got = new Set(received.map((f) => f.seq as number));
  assert.equal(Math.max(...got), afterSeq, "the cursor is the last event written");
  assert.ok(a.frames.filter((f) => f.method === "item/agentMessage/delta").length < deltas, "some deltas were dropped");
  assert.ok(a.frames.some((f) => f.method === "item/completed"), "the completed item arrived");
  for (const seq of kept) if (seq <= afterSeq) assert.ok(got.has(seq), `non-delta event ${seq} delivered`);

  // The fast subscriber got everything, deltas included.
  const last = kept[kept.length - 1]!;
  await b.waitFor((f) => f.seq === last);
  assert.equal(b.frames.filter((f) => f.method === "item/agentMessage/delta").length, deltas);
  await h.close();
});
