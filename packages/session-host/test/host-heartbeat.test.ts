import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHostRegistry, type HostRegistry } from "@threadmesh/mesh";
import { noopTelemetry } from "@threadmesh/telemetry";
import { HostHeartbeat } from "../src/host-heartbeat.ts";

const TTL_MS = 200;

/** Blocks the event loop, as a paused or overloaded process would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A registry shared with other processes: a stall here does not stop them from adopting. */
function shared(inner: MemoryHostRegistry): HostRegistry {
  return {
    leaseTtlMs: inner.leaseTtlMs,
    processLocal: false,
    start: () => inner.start(),
    heartbeat: (load) => inner.heartbeat(load),
    remove: (hostId) => inner.remove(hostId),
    get: (hostId) => inner.get(hostId),
    isAlive: (hostId, now) => inner.isAlive(hostId, now),
    expiresAt: (hostId) => inner.expiresAt(hostId),
    live: (now) => inner.live(now),
    close: () => inner.close(),
  };
}

function heartbeat(registry: HostRegistry, onLapse: () => void, hostId = "h1"): HostHeartbeat {
  const load = () => ({ loadedThreads: 0, activeTurns: 0, capacity: 1, draining: false });
  return new HostHeartbeat({ hostId, registry, intervalMs: 40, load, onLapse, logger: noopTelemetry().logger });
}

describe("host heartbeat lease", () => {
  test("a host that could not renew within its lease drops its threads once, and is valid again after a beat", async () => {
    const registry = new MemoryHostRegistry({ leaseTtlMs: TTL_MS });
    let lapses = 0;
    const hb = heartbeat(shared(registry), () => lapses++);
    await hb.start();
    try {
      assert.equal(hb.valid(), true);
      stall(TTL_MS);
      assert.equal(hb.valid(), false, "the first check after the stall finds the lease lapsed");
      assert.equal(hb.valid(), false);
      assert.equal(lapses, 1, "reported once per lapse");
      await hb.beat();
      assert.equal(hb.valid(), true, "a stored heartbeat renews the lease");
    } finally {
      hb.stop();
    }
  });

  test("the host stops acting before others see it dead", async () => {
    const registry = new MemoryHostRegistry({ leaseTtlMs: TTL_MS });
    const hb = heartbeat(shared(registry), () => {});
    await hb.start();
    hb.stop();
    const expires = registry.expiresAt("h1");
    stall(Math.max(0, expires - Date.now() - TTL_MS * 0.1));
    assert.equal(registry.isAlive("h1"), true, "others still see the host alive");
    assert.equal(hb.valid(), false, "the host already considers its lease gone");
  });

  test("in one process a sole host keeps its lease through a stall; with another host it does not", async () => {
    const registry = new MemoryHostRegistry({ leaseTtlMs: TTL_MS });
    let lapses = 0;
    const hb = heartbeat(registry, () => lapses++);
    await hb.start();
    try {
      stall(TTL_MS);
      assert.equal(hb.valid(), true, "nobody else could have adopted its threads");
      await registry.heartbeat({ hostId: "h2", loadedThreads: 0, activeTurns: 0, capacity: 1, eventLoopLagMs: 0, draining: false, at: Date.now() });
      assert.equal(hb.valid(), false);
      assert.equal(lapses, 1);
    } finally {
      hb.stop();
    }
  });
});
