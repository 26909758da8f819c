import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENVELOPE_VERSION, MeshMethod, newId, threadEventSubject } from "@threadmesh/protocol";
import { settle, startRouter, TENANT, type Harness, type TestClient } from "./harness.ts";

async function startThread(c: TestClient): Promise<string> {
  const r = await c.request("thread/start", {});
  return (r.result as { thread: { id: string } }).thread.id;
}

describe("fan-out of host events", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter();
  });
  after(() => h.close());

  test("broadcast events reach every initialized connection of the tenant, uninitialized ones none", async () => {
    const a = await h.client();
    const b = await h.client();
    const raw = await h.client({ init: false });
    const threadId = newId();
    h.host.broadcast(threadId, "thread/status/changed", { threadId, status: { type: "idle" } });
    const fa = await a.waitForMethod("thread/status/changed");
    await b.waitForMethod("thread/status/changed");
    await raw.request("initialize", { clientInfo: { name: "late", version: "1" } });
    assert.equal(raw.frames.filter((f) => f.method !== undefined).length, 0);
    assert.equal((fa.params as { threadId: string }).threadId, threadId);
  });

  test("broadcasts do not cross tenants", async () => {
    const a = await h.client();
    const threadId = newId();
    h.host.broadcast(threadId, "thread/started", { thread: { id: threadId } }, { tenant: "other_tenant" });
    h.host.broadcast(threadId, "thread/name/updated", { threadId, threadName: "x" });
    await a.waitForMethod("thread/name/updated");
    assert.ok(!a.methods().includes("thread/started"));
  });

  test("thread events reach only subscribed connections, as the exact bytes the host published", async () => {
    const a = await h.client();
    const b = await h.client();
    const threadId = await startThread(a);
    const seq = h.host.notify(threadId, "turn/started", { threadId, turn: { id: "u" } });
    h.host.broadcast(threadId, "thread/status/changed", { threadId, status: { type: "active", activeFlags: [] } });
    const ev = await a.waitForMethod("turn/started");
    await b.waitForMethod("thread/status/changed");
    assert.ok(!b.methods().includes("turn/started"));
    assert.equal(ev.seq, seq);
    assert.match(ev.__raw, /^\{"method":"turn\/started","params":\{"threadId":"[^"]+","turn":\{"id":"u"\}\},"emittedAtMs":\d+,"seq":\d+\}$/);
  });

  test("a new owner whose first event is numbered at or below a delivered seq is counted", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const before = await h.metric("tm_router_seq_regressions_total");
    h.host.notify(threadId, "turn/started", { threadId, turn: { id: "t1" } }, { epoch: 1, seq: 5 });
    await a.waitForMethod("turn/started");
    // Epoch 2 starts after what was delivered: fine. Epoch 3 starts at an old seq: counted.
    h.host.notify(threadId, "item/started", { threadId, item: { id: "i2" } }, { epoch: 2, seq: 6 });
    await a.waitForMethod("item/started");
    assert.equal(await h.metric("tm_router_seq_regressions_total"), before);
    h.host.notify(threadId, "item/completed", { threadId, item: { id: "i3" } }, { epoch: 3, seq: 4 });
    h.host.notify(threadId, "turn/completed", { threadId, turn: { id: "t1" } }, { epoch: 3, seq: 7 });
    await a.waitForMethod("turn/completed");
    assert.equal(await h.metric("tm_router_seq_regressions_total"), before + 1);
    assert.ok(!a.methods().includes("item/completed"), "the repeated seq is not delivered");
  });

  test("optOutNotificationMethods suppresses exactly the named methods", async () => {
    const a = await h.client({ capabilities: { optOutNotificationMethods: ["item/agentMessage/delta", "thread/started"] } });
    const threadId = await startThread(a);
    h.host.notify(threadId, "item/agentMessage/delta", { threadId, delta: "x" });
    h.host.broadcast(threadId, "thread/started", { thread: { id: threadId } });
    h.host.notify(threadId, "item/completed", { threadId, item: { id: "i" } });
    await a.waitForMethod("item/completed");
    assert.ok(!a.methods().includes("item/agentMessage/delta"));
    assert.ok(!a.methods().includes("thread/started"));
  });

  test("a batch reaches subscribers as its separate frames, in order, each filtered by its own method", async () => {
    const a = await h.client();
    const b = await h.client({ capabilities: { optOutNotificationMethods: ["item/agentMessage/delta"] } });
    const threadId = await startThread(a);
    await b.request("thread/resume", { threadId });
    const seqs = h.host.batch(threadId, [
      ["item/agentMessage/delta", { threadId, delta: "one" }],
      ["item/agentMessage/delta", { threadId, delta: "two\nlines" }],
      ["item/completed", { threadId, item: { id: "i" } }],
    ]);
    await a.waitForMethod("item/completed");
    await b.waitForMethod("item/completed");
    const events = (c: TestClient) => c.frames.filter((f) => f.seq !== undefined && seqs.includes(f.seq as number));
    assert.deepEqual(events(a).map((f) => [f.method, f.seq, (f.params as { delta?: string }).delta]), [
      ["item/agentMessage/delta", seqs[0], "one"],
      ["item/agentMessage/delta", seqs[1], "two\nlines"],
      ["item/completed", seqs[2], undefined],
    ]);
    assert.deepEqual(events(b).map((f) => f.method), ["item/completed"]);
  });

  test("with joinDeltas, consecutive deltas of one item in a batch reach each subscriber as one frame with the joined text and firstSeq", async (t) => {
    const h = await startRouter({ joinDeltas: true });
    t.after(() => h.close());
    const a = await h.client();
    const b = await h.client();
    const threadId = await startThread(a);
    await b.request("thread/resume", { threadId });
    const d = (itemId: string, delta: string) => ["item/agentMessage/delta", { threadId, turnId: "t", itemId, delta }] as [string, unknown];
    const seqs = h.host.batch(threadId, [d("i1", "Hel"), d("i1", "lo"), d("i1", " \"you\"\n"), d("i2", "other"), ["item/completed", { threadId, item: { id: "i2" } }]]);
    for (const c of [a, b]) {
      await c.waitForMethod("item/completed");
      const events = c.frames.filter((f) => f.seq !== undefined && seqs.includes(f.seq as number));
      assert.deepEqual(
        events.map((f) => [f.method, f.firstSeq, f.seq, (f.params as { delta?: string }).delta, (f.params as { itemId?: string }).itemId]),
        [
          ["item/agentMessage/delta", seqs[0], seqs[2], 'Hello "you"\n', "i1"],
          ["item/agentMessage/delta", undefined, seqs[3], "other", "i2"],
          ["item/completed", undefined, seqs[4], undefined, undefined],
        ],
      );
    }
  });

  test("by default each delta of a batch is its own frame, as Codex sends them", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const d = (delta: string) => ["item/agentMessage/delta", { threadId, turnId: "t", itemId: "i1", delta }] as [string, unknown];
    const seqs = h.host.batch(threadId, [d("a"), d("b"), d("c"), ["item/completed", { threadId, item: { id: "i1" } }]]);
    await a.waitForMethod("item/completed");
    const events = a.frames.filter((f) => f.seq !== undefined && seqs.includes(f.seq as number));
    assert.deepEqual(
      events.map((f) => [f.method, f.firstSeq, f.seq, (f.params as { delta?: string }).delta]),
      [
        ["item/agentMessage/delta", undefined, seqs[0], "a"],
        ["item/agentMessage/delta", undefined, seqs[1], "b"],
        ["item/agentMessage/delta", undefined, seqs[2], "c"],
        ["item/completed", undefined, seqs[3], undefined],
      ],
    );
  });

  test("thread/unsubscribe stops thread events for that connection only", async () => {
    const a = await h.client();
    const b = await h.client();
    const threadId = await startThread(a);
    await b.request("thread/resume", { threadId });
    await a.request("thread/unsubscribe", { threadId });
    h.host.notify(threadId, "turn/started", { threadId });
    h.host.broadcast(threadId, "thread/status/changed", { threadId });
    await b.waitForMethod("turn/started");
    await a.waitForMethod("thread/status/changed");
    assert.ok(!a.methods().includes("turn/started"));
  });

  test("a broadcast with the drop header ends every local subscription to the thread after delivery", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    h.host.broadcast(threadId, "thread/archived", { threadId }, { drop: true });
    await a.waitForMethod("thread/archived");
    h.host.notify(threadId, "turn/started", { threadId });
    h.host.broadcast(threadId, "thread/status/changed", { threadId });
    await a.waitForMethod("thread/status/changed");
    assert.ok(!a.methods().includes("turn/started"));
  });

  test("events from an older owner epoch than one already seen are dropped", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    h.host.notify(threadId, "item/started", { threadId, n: 1 }, { epoch: 2 });
    h.host.notify(threadId, "item/started", { threadId, n: 2 }, { epoch: 1 });
    h.host.notify(threadId, "item/started", { threadId, n: 3 }, { epoch: 3 });
    await a.waitFor((f) => f.method === "item/started" && (f.params as { n: number }).n === 3);
    const ns = a.frames.filter((f) => f.method === "item/started").map((f) => (f.params as { n: number }).n);
    assert.deepEqual(ns, [1, 3]);
    assert.ok((await h.metric("tm_router_outbound_dropped_total", { reason: "staleEpoch" })) >= 1);
  });

  test("resume listens before asking: an event published while the host answers follows the response", async () => {
    const a = await h.client();
    const threadId = newId();
    h.host.own(threadId);
    h.host.handler = (r) => {
      if (r.env.method !== "thread/resume") return undefined;
      // Published before the reply: without the early subscription it would be lost.
      h.host.notify(threadId, "thread/tokenUsage/updated", { threadId, early: true });
      return { v: ENVELOPE_VERSION, ok: true, result: { thread: { id: threadId } }, subscribe: threadId };
    };
    const start = a.frames.length;
    const r = await a.request("thread/resume", { threadId });
    h.host.handler = undefined;
    await a.waitForMethod("thread/tokenUsage/updated", start);
    assert.deepEqual(a.methods().slice(start), [`#${String(r.id)}`, "thread/tokenUsage/updated"]);
  });

  test("a failed resume delivers nothing of the thread", async () => {
    const a = await h.client();
    const threadId = newId();
    h.host.handler = (r) => {
      if (r.env.method !== "thread/resume") return undefined;
      h.host.notify(threadId, "turn/started", { threadId });
      return { v: ENVELOPE_VERSION, ok: false, error: { code: -32600, message: `no rollout found for thread id ${threadId}` } };
    };
    const r = await a.request("thread/resume", { threadId });
    h.host.handler = undefined;
    assert.equal((r.error as { code: number }).code, -32600);
    h.host.notify(threadId, "turn/started", { threadId });
    h.host.broadcast(threadId, "thread/status/changed", { threadId });
    await a.waitForMethod("thread/status/changed");
    assert.ok(!a.methods().includes("turn/started"));
  });

  test("a closing connection tells the owner of each thread it followed; other subscribers keep receiving", async () => {
    const a = await h.client({ name: "closer" });
    const b = await h.client();
    const t1 = await startThread(a);
    const t2 = await startThread(a);
    await b.request("thread/resume", { threadId: t1 });
    await a.close();
    const notices = await Promise.all(
      [t1, t2].map((t) =>
        h.host.waitFor((r) => r.env.method === MeshMethod.ConnectionClosed && (r.env.params as { threadId: string }).threadId === t),
      ),
    );
    for (const n of notices) {
      assert.equal(n.env.origin.clientName, "closer");
      assert.equal(n.subject, `tm.v1.default.cmd.${(n.env.params as { threadId: string }).threadId}`);
    }
    h.host.notify(t1, "turn/started", { threadId: t1 });
    await b.waitForMethod("turn/started");
  });

  test("thread subscriptions on the bus are released when the last subscriber leaves", async () => {
    const a = await h.client();
    const threadId = await startThread(a);
    const listening = async (): Promise<boolean> =>
      h.bus.request(threadEventSubject(TENANT, threadId), new Uint8Array(0), { timeoutMs: 1 }).then(
        () => true,
        (err: { kind?: string }) => err.kind !== "noResponders",
      );
    assert.equal(await listening(), true);
    await a.request("thread/unsubscribe", { threadId });
    await settle(h.bus);
    assert.equal(await listening(), false);
    // Resubscribing builds a new subscription that delivers.
    await a.request("thread/resume", { threadId });
    h.host.notify(threadId, "turn/started", { threadId });
    await a.waitForMethod("turn/started");
  });
});
