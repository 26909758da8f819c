import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { Metrics, noopTelemetry } from "@threadmesh/telemetry";
import type { ThreadStore } from "@threadmesh/persistence";
import { startHarness, startThread, text } from "./host-harness.ts";

/** A store whose `createThread` writes the row, then answers only once `gate` opens (a slow acknowledgement). */
function slowToCreate(store: ThreadStore, gate: Promise<void>): ThreadStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === "createThread") return async (...args: Parameters<ThreadStore["createThread"]>) => {
          await target.createThread(...args);
          await gate;
        };
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

test("a thread being created is held: the orphan sweep does not take the thread its start stored and claimed before adopting it", async () => {
  const metrics = new Metrics();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  // Sweeps every 50 ms: a store slow for 400 ms leaves several passes over the entry naming this host.
  const h = await startHarness({ telemetry: { ...noopTelemetry(), metrics }, config: { heartbeatIntervalMs: 50 }, wrapStore: (s) => slowToCreate(s, gate) });
  try {
    const starting = startThread(h.client);
    await delay(400);
    open();
    const { threadId } = await starting;
    h.sim.script(threadId, [{ output: [{ type: "message", text: ["one ", "reply"] }] }]);
    const from = h.client.frames.length;
    const { turn } = await h.client.call("turn/start", { threadId, input: text("hi") });
    await h.client.waitTurnCompleted(threadId, turn.id, from);
    const deltas = h.client.frames.slice(from).flatMap((f) => (f.kind === "n" && f.method === "item/agentMessage/delta" ? [(f.params as { delta: string }).delta] : []));
    assert.deepEqual(deltas, ["one ", "reply"], "one actor streams the turn, once");
    const takeovers = (await metrics.registry.getSingleMetric("tm_host_lease_takeovers_total")?.get())?.values[0]?.value ?? 0;
    assert.equal(takeovers, 0, "the host took over no thread");
  } finally {
    open();
    await h.close();
  }
});
