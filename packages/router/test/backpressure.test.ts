import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { settle, startRouter, type Frame, type Harness, type TestClient } from "./harness.ts";

/** Bound on publish rounds: the kernel's socket buffers must fill before the router holds anything. */
const MAX_ROUNDS = 4_000;
/** Bound on polls of a condition that a timer of the router makes true. */
const MAX_POLLS = 3_000;
const DELTA = "x".repeat(16 * 1024);
const METHOD = "item/agentMessage/delta";

function socketOf(c: TestClient): Socket {
  return (c.ws as unknown as { _socket: Socket })._socket;
}

async function startThread(c: TestClient): Promise<string> {
  return ((await c.request("thread/start", {})).result as { thread: { id: string } }).thread.id;
}

/** Publishes deltas of one item as the host does (a batch per model read), recording their text. */
class Stream {
  readonly texts: string[] = [];
  lastSeq = 0;
  constructor(
    readonly h: Harness,
    readonly threadId: string,
    readonly itemId = "m",
  ) {}

  batch(n: number, body = DELTA): void {
    const notes: Array<[string, unknown]> = [];
    for (let i = 0; i < n; i++) {
      const delta = `<${this.texts.length}>${body}`;
      this.texts.push(delta);
      notes.push([METHOD, { threadId: this.threadId, turnId: "t", itemId: this.itemId, delta }]);
    }
    this.lastSeq = this.h.host.batch(this.threadId, notes).at(-1)!;
  }

  /** Publishes rounds until `done()` holds, letting the router handle each round. */
  async until(done: () => Promise<boolean>, perRound = 16): Promise<void> {
    for (let i = 0; i < MAX_ROUNDS && !(await done()); i++) {
      this.batch(perRound);
      await settle(this.h.bus);
    }
    assert.ok(await done(), "condition reached within the publish bound");
  }

  text(): string {
    return this.texts.join("");
  }
}

/** Waits for a condition that a timer of the router makes true, checking every few ms. */
async function poll(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < MAX_POLLS && !(await cond()); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(await cond(), "condition reached");
}

/**
 * The thread's notifications in `frames`, checked gapless: each starts (at `firstSeq` when coalesced)
 * right after the one before. Returns the concatenated delta text and the last seq.
 */
function gapless(frames: readonly Frame[], threadId: string, after: number): { text: string; last: number; coalesced: number; frames: number } {
  let last = after;
  let text = "";
  let coalesced = 0;
  let n = 0;
  for (const f of frames) {
    if (typeof f.seq !== "number" || (f.params as { threadId?: string } | undefined)?.threadId !== threadId) continue;
    const first = typeof f.firstSeq === "number" ? f.firstSeq : f.seq;
    assert.equal(first, last + 1, `frame ${f.seq} starts right after ${last}`);
    assert.ok(f.seq >= first);
    if (f.seq > first) coalesced++;
    last = f.seq;
    n++;
    if (f.method === METHOD) text += (f.params as { delta: string }).delta;
  }
  return { text, last, coalesced, frames: n };
}

test("a connection that falls behind gets consecutive deltas coalesced, with the exact text and a gapless seq, then keeps up again", async () => {
  const h = await startRouter({ outboundHighWaterBytes: 16 * 1024, outboundMaxBytes: 1024 * 1024 * 1024, outboundTotalMaxBytes: 1024 * 1024 * 1024 });
  try {
    const a = await h.client();
    const threadId = await startThread(a);
    const s = new Stream(h, threadId);
    socketOf(a).pause();
    await s.until(async () => (await h.metric("tm_router_outbound_coalesced_total")) >= 64);
    s.batch(16);
    const completed = h.host.notify(threadId, "item/completed", { threadId, item: { type: "agentMessage", id: "m", text: s.text() } });
    await settle(h.bus);
    socketOf(a).resume();
    await a.waitFor((f) => f.seq === completed);

    const got = gapless(a.frames, threadId, 0);
    assert.equal(got.last, completed);
    assert.ok(got.coalesced > 0, "some frames carry several deltas");
    assert.ok(got.frames < s.texts.length, `${got.frames} frames for ${s.texts.length} deltas`);
    assert.equal(got.text, s.text(), "the concatenated deltas are the item's text");
    assert.equal(await h.metric("tm_router_slow_consumer_closes_total"), 0);

    // Caught up: each batch goes out as it comes again, nothing merged across batches.
    const from = a.frames.length;
    for (let i = 0; i < 3; i++) s.batch(1, "y");
    await a.waitFor((f) => f.seq === s.lastSeq, from);
    const after = a.frames.slice(from).filter((f) => f.method === METHOD);
    assert.deepEqual(
      after.map((f) => [f.seq, "firstSeq" in f]),
      [
        [completed + 1, false],
        [completed + 2, false],
        [completed + 3, false],
      ],
    );
  } finally {
    await h.close();
  }
});

test("a connection over its cap past the grace period is closed with 1013 and the afterSeq to resume from; the resume loses nothing", async () => {
  const h = await startRouter(
    { outboundHighWaterBytes: 16 * 1024, outboundMaxBytes: 256 * 1024, outboundGraceMs: 50, outboundTotalMaxBytes: 1024 * 1024 * 1024 },
    { replayWindow: {} },
  );
  try {
    const a = await h.client();
    const threadId = await startThread(a);
    const started = h.host.notify(threadId, "item/started", { threadId, item: { type: "agentMessage", id: "m" } });
    const s = new Stream(h, threadId);
    socketOf(a).pause();
    await s.until(async () => (await h.metric("tm_router_outbound_coalesced_total")) > 0);
    // Over the cap: it stays there while the client reads nothing, until the grace period ends.
    s.batch(32);
    await settle(h.bus);
    await poll(async () => (await h.metric("tm_router_slow_consumer_closes_total", { cause: "grace" })) === 1);
    assert.equal(await h.metric("tm_router_connections_closed_total", { reason: "outboundFull" }), 1);
    s.batch(16);
    const completed = h.host.notify(threadId, "item/completed", { threadId, item: { type: "agentMessage", id: "m", text: s.text() } });
    await settle(h.bus);

    socketOf(a).resume();
    const closed = await a.closed;
    assert.equal(closed.code, 1013);
    const m = /^outbound queue full; resume with afterSeq=(\d+)$/.exec(closed.reason);
    assert.ok(m, closed.reason);
    const afterSeq = Number(m[1]);
    const before = gapless(a.frames, threadId, 0);
    assert.equal(before.last, afterSeq, "the cursor is the last event the client received");
    assert.ok(afterSeq >= started && afterSeq < completed);

    const b = await h.client();
    const res = await b.request("thread/resume", { threadId, afterSeq });
    assert.equal((res.result as { replay: { recovered: boolean } }).replay.recovered, true);
    await b.waitFor((f) => f.seq === completed);
    const rest = gapless(b.frames, threadId, afterSeq);
    assert.equal(rest.last, completed);
    assert.equal(before.text + rest.text, s.text(), "the text before the close and after the resume is the item's text");
    const item = b.frames.find((f) => f.seq === completed)!;
    assert.equal((item.params as { item: { text: string } }).item.text, before.text + rest.text);
  } finally {
    await h.close();
  }
});

test("a client that keeps up receives every delta of a 20,000-delta turn and their text is the completed item's", async () => {
  const h = await startRouter();
  try {
    const a = await h.client();
    const threadId = await startThread(a);
    const s = new Stream(h, threadId);
    for (let i = 0; i < 100; i++) {
      s.batch(200, `tok${i} `);
      if (i % 10 === 9) await settle(h.bus);
    }
    const completed = h.host.notify(threadId, "item/completed", { threadId, item: { type: "agentMessage", id: "m", text: s.text() } });
    await a.waitFor((f) => f.seq === completed);
    const got = gapless(a.frames, threadId, 0);
    assert.equal(got.last, completed);
    assert.equal(s.texts.length, 20_000);
    assert.equal(got.text, s.text());
    assert.equal(await h.metric("tm_router_outbound_dropped_total"), 0);
  } finally {
    await h.close();
  }
});

test("the router's total outbound cap closes the largest backlogs at once, and the count returns to zero", async () => {
  const h = await startRouter({
    outboundHighWaterBytes: 16 * 1024,
    outboundMaxBytes: 512 * 1024,
    outboundGraceMs: 3_600_000,
    outboundTotalMaxBytes: 768 * 1024,
  });
  try {
    const clients = [await h.client(), await h.client(), await h.client()];
    const streams: Stream[] = [];
    for (const c of clients) streams.push(new Stream(h, await startThread(c)));
    const outbound = async () => {
      await h.router.renderMetrics();
      return h.metric("tm_router_outbound_bytes");
    };
    for (const c of clients) socketOf(c).pause();
    // The backlogs grow together; they pass the total cap long before any one's grace period ends.
    for (let i = 0; i < MAX_ROUNDS && (await h.metric("tm_router_slow_consumer_closes_total", { cause: "totalCap" })) === 0; i++) {
      for (const s of streams) s.batch(8);
      await settle(h.bus);
      await new Promise((r) => setImmediate(r));
    }
    const shedCount = await h.metric("tm_router_slow_consumer_closes_total", { cause: "totalCap" });
    assert.ok(shedCount >= 1 && shedCount < clients.length, `${shedCount} shed`);
    assert.equal(await h.metric("tm_router_slow_consumer_closes_total", { cause: "grace" }), 0);
    assert.ok((await outbound()) > 0);
    assert.equal(await h.metric("tm_router_outbound_limit_bytes"), 768 * 1024);

    for (const c of clients) socketOf(c).resume();
    // A shed client reads what was written, then the close; the others answer a request.
    const outcomes = await Promise.all(clients.map((c) => Promise.race([c.closed, c.request("model/list", {}).then(() => "open" as const)])));
    const shed = outcomes.filter((o) => o !== "open");
    assert.equal(shed.length, shedCount);
    for (const c of shed) {
      assert.equal(c.code, 1013);
      assert.match(c.reason, /^outbound queue full; resume with afterSeq=\d+$/);
    }
    for (const c of clients) await c.close();
    await poll(async () => (await outbound()) === 0);
    assert.equal(h.router.config.outboundTotalMaxBytes, 768 * 1024);
  } finally {
    await h.close();
  }
});
