import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { KvHostRegistry } from "@threadmesh/mesh/nats";
import { hostHeartbeatSubject } from "@threadmesh/protocol";
import { noopTelemetry } from "@threadmesh/telemetry";
import { startNatsServer, type NatsServer } from "../../../test/support/nats-server.ts";
import { HostHeartbeat } from "../src/host-heartbeat.ts";

const TTL_MS = 1_000;
const INTERVAL_MS = 200;

/** Blocks the event loop, as an overloaded or wedged process would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A host's heartbeat on its own NATS connection, with every beat another process would see recorded. */
async function keptHeartbeat(url: string, nc: NatsConnection, watcher: NatsConnection) {
  const hostId = `h-${randomBytes(3).toString("hex")}`;
  const registry = await KvHostRegistry.open(nc, { bucket: `tm_hosts_${randomBytes(4).toString("hex")}`, leaseTtlMs: TTL_MS, servers: [url] });
  const beats: number[] = [];
  const sub = watcher.subscribe(hostHeartbeatSubject(hostId), {
    callback: (_err, msg) => {
      beats.push((msg.json() as { at: number }).at);
    },
  });
  await watcher.flush();
  let lapses = 0;
  const load = () => ({ loadedThreads: 0, activeTurns: 0, capacity: 1, draining: false });
  const hb = new HostHeartbeat({ hostId, registry, intervalMs: INTERVAL_MS, load, onLapse: () => lapses++, logger: noopTelemetry().logger });
  await hb.start();
  return {
    hb,
    beats,
    lapses: () => lapses,
    /** Longest time between two beats in [from, to]: others see the host dead when it exceeds the ttl. */
    longestGap(from: number, to: number): number {
      const seen = beats.filter((at) => at >= from - TTL_MS && at <= to + TTL_MS).sort((a, b) => a - b);
      let gap = 0;
      for (let i = 1; i < seen.length; i++) gap = Math.max(gap, seen[i]! - seen[i - 1]!);
      return gap;
    },
    async close() {
      await hb.stop();
      sub.unsubscribe();
      await registry.close();
    },
  };
}

/** Waits until the watcher received the beats published up to now (a round trip on its connection). */
async function caughtUp(watcher: NatsConnection): Promise<void> {
  await new Promise((r) => setTimeout(r, INTERVAL_MS * 2));
  await watcher.flush();
}

describe("host lease kept off the event loop (NATS)", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let watcher: NatsConnection;
  before(async () => {
    const s = await startNatsServer({ jetstream: true });
    assert.ok(s, "nats-server is installed");
    server = s;
    nc = await connect({ servers: server.url });
    watcher = await connect({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await watcher?.close();
    await server?.stop();
  });

  test("a main loop busy for longer than the lease keeps it: beats never stop, no lapse", async () => {
    const k = await keptHeartbeat(server.url, nc, watcher);
    try {
      const from = Date.now();
      // The heartbeat written from the main loop gave up at 0.8 × ttl; the lease now survives a full ttl and more.
      stall(TTL_MS * 1.2);
      const to = Date.now();
      assert.equal(k.hb.valid(), true, "the lease still runs");
      assert.ok(k.hb.eventLoopLagMs >= 0);
      await caughtUp(watcher);
      assert.equal(k.lapses(), 0);
      const gap = k.longestGap(from, to);
      assert.ok(gap < TTL_MS, `no other process saw the host dead (longest gap between beats ${gap} ms)`);
      assert.ok(k.hb.eventLoopLagMs > TTL_MS / 2 || Date.now() - to > 1_000, "the stall shows as event-loop lag");
    } finally {
      await k.close();
    }
  });

  test("a main loop wedged for longer than the stall limit loses the lease and lets go of its threads once", async () => {
    const k = await keptHeartbeat(server.url, nc, watcher);
    try {
      const from = Date.now();
      // Beats stop once the loop was silent for stallMs (= ttl); others see the host dead one ttl later.
      stall(TTL_MS * 2 + 300);
      const to = Date.now();
      assert.equal(k.hb.valid(), false, "the first check after the wedge finds the lease gone");
      assert.equal(k.lapses(), 1);
      await caughtUp(watcher);
      const gap = k.longestGap(from, to);
      assert.ok(gap > TTL_MS, `others saw the host dead (longest gap between beats ${gap} ms)`);
      // The loop runs again: beats resume and the lease is valid again, without a second lapse.
      await caughtUp(watcher);
      assert.equal(k.hb.valid(), true);
      assert.equal(k.lapses(), 1);
    } finally {
      await k.close();
    }
  });

  test("no heartbeat leaves after stop", async () => {
    const k = await keptHeartbeat(server.url, nc, watcher);
    await k.close();
    const stoppedAt = Date.now();
    await caughtUp(watcher);
    assert.ok(k.beats.length >= 1, "the first beat was seen");
    assert.deepEqual(k.beats.filter((at) => at > stoppedAt), []);
  });
});
