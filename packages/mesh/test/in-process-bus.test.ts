import { test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus } from "@threadmesh/mesh";
import { describeBus } from "./bus-behaviour.ts";
import { Received, bytes } from "./received.ts";

describeBus("InProcessBus", async () => {
  const deliveryErrors: unknown[] = [];
  const bus = new InProcessBus({ onDeliveryError: (err) => deliveryErrors.push(err) });
  return { bus, deliveryErrors, cleanup: () => bus.close() };
});

test("InProcessBus delivers asynchronously, never inside publish", async () => {
  const bus = new InProcessBus();
  const r = new Received();
  bus.subscribe("a.b", (msg) => {
    r.handler(msg);
    bus.publish("a.c", msg.data);
  });
  const nested = new Received();
  bus.subscribe("a.c", nested.handler);
  bus.publish("a.b", bytes("1"));
  assert.equal(r.messages.length, 0);
  await bus.flush();
  assert.equal(r.messages.length, 1);
  assert.equal(nested.messages.length, 1);
  await bus.close();
});

test("InProcessBus flush resolves once everything published so far has been delivered", async () => {
  const bus = new InProcessBus();
  const r = new Received();
  bus.subscribe("t.*", r.handler);
  for (let i = 0; i < 1_000; i++) bus.publish(`t.${i % 7}`, bytes(String(i)));
  await bus.flush();
  assert.equal(r.messages.length, 1_000);
  await bus.flush();
  await bus.close();
});

test("InProcessBus gives every receiver its own copy of payload and headers", async () => {
  const bus = new InProcessBus();
  const a = new Received();
  const b = new Received();
  bus.subscribe("x", a.handler);
  bus.subscribe("x", b.handler);
  const headers = { k: "v" };
  bus.publish("x", bytes("p"), headers);
  headers.k = "changed";
  await bus.flush();
  assert.notEqual(a.messages[0]!.data, b.messages[0]!.data);
  assert.notEqual(a.messages[0]!.headers, b.messages[0]!.headers);
  assert.deepEqual({ ...a.messages[0]!.headers }, { k: "v" });
  await bus.close();
});

test("InProcessBus rotates a queue group's members and treats a group as one across subjects", async () => {
  const bus = new InProcessBus();
  const exact = new Received();
  const wild = new Received();
  bus.subscribe("tm.v1.t1.place", exact.handler, { queue: "hosts" });
  bus.subscribe("tm.v1.*.place", wild.handler, { queue: "hosts" });
  for (let i = 0; i < 10; i++) bus.publish("tm.v1.t1.place", bytes(String(i)));
  await bus.flush();
  assert.equal(exact.messages.length + wild.messages.length, 10);
  assert.equal(exact.messages.length, 5);
  await bus.close();
});

test("InProcessBus copies stay apart when they share a slab, and a large payload arrives whole", async () => {
  const bus = new InProcessBus();
  const got: string[] = [];
  bus.subscribe("x", (msg) => {
    got.push(new TextDecoder().decode(msg.data));
    // Written past its end, this would show in the next message's text.
    msg.data.fill(0x21);
  });
  const big = new Uint8Array(100_000).fill(7);
  const texts = Array.from({ length: 600 }, (_, i) => `message ${i} ${"y".repeat(i % 200)}`);
  for (const t of texts) bus.publish("x", bytes(t));
  bus.publish("x", big);
  await bus.flush();
  assert.equal(got.length, 601);
  assert.deepEqual(got.slice(0, 600), texts);
  assert.equal(big[0], 7);
  assert.equal(got[600], "\u0007".repeat(100_000));
  await bus.close();
});

test("InProcessBus yields to timers and I/O during a long burst of deliveries", async () => {
  const bus = new InProcessBus();
  let delivered = 0;
  let deliveredWhenTimerRan = -1;
  bus.subscribe("burst", () => {
    delivered++;
  });
  setImmediate(() => {
    deliveredWhenTimerRan = delivered;
  });
  for (let i = 0; i < 5_000; i++) bus.publish("burst", bytes(String(i)));
  await bus.flush();
  assert.equal(delivered, 5_000);
  assert.ok(deliveredWhenTimerRan >= 0 && deliveredWhenTimerRan < 5_000, `the immediate ran after ${deliveredWhenTimerRan} deliveries`);
  await bus.close();
});
