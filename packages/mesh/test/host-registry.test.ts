import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { MemoryHostRegistry, type HostLoad } from "@threadmesh/mesh";
import { KvHostRegistry, NatsBus } from "@threadmesh/mesh/nats";
import { eventually } from "./eventually.ts";
import { startNatsServer } from "../../../test/support/nats-server.ts";
import { TTL_MS, describeHostRegistry } from "./host-registry-behaviour.ts";

describeHostRegistry("MemoryHostRegistry", async () => {
  const registry = new MemoryHostRegistry({ leaseTtlMs: TTL_MS });
  return { writer: registry, reader: registry, late: async () => registry, cleanup: () => registry.close() };
});

const server = await startNatsServer({ jetstream: true });
if (server === null) {
  test("KvHostRegistry", (t) => t.skip("nats-server not installed"));
} else {
  after(() => server.stop());
  describeHostRegistry("KvHostRegistry", async () => {
    const bucket = `tm_hosts_${randomBytes(4).toString("hex")}`;
    const buses = await Promise.all([1, 2, 3].map((i) => NatsBus.connect({ servers: server.url, name: `registry-${i}` })));
    const [a, b, c] = buses as [NatsBus, NatsBus, NatsBus];
    const writer = await KvHostRegistry.open(a.connection, { bucket, leaseTtlMs: TTL_MS });
    const reader = await KvHostRegistry.open(b.connection, { bucket, leaseTtlMs: TTL_MS });
    const opened: KvHostRegistry[] = [writer, reader];
    return {
      writer,
      reader,
      async late() {
        const r = await KvHostRegistry.open(c.connection, { bucket, leaseTtlMs: TTL_MS });
        opened.push(r);
        await r.start();
        return r;
      },
      async cleanup() {
        for (const r of opened) await r.close();
        await Promise.all(buses.map((bus) => bus.close()));
      },
    };
  });

  test("KvHostRegistry: leases ride on core NATS, so beats keep a host alive while its KV writes fail", { timeout: 15_000 }, async () => {
    const bucket = `tm_hosts_${randomBytes(4).toString("hex")}`;
    const [a, b] = await Promise.all([1, 2].map((i) => NatsBus.connect({ servers: server.url, name: `registry-core-${i}` })));
    const storeErrors: unknown[] = [];
    const writer = await KvHostRegistry.open(a!.connection, { bucket, leaseTtlMs: 10_000, onError: (err) => storeErrors.push(err) });
    const reader = await KvHostRegistry.open(b!.connection, { bucket, leaseTtlMs: 10_000 });
    try {
      await Promise.all([writer.start(), reader.start()]);
      const beat = (at: number): HostLoad => ({ hostId: "hc", loadedThreads: 0, activeTurns: 0, capacity: 4, eventLoopLagMs: 0, draining: false, at });
      await writer.heartbeat(beat(Date.now()));
      await eventually(() => reader.isAlive("hc"), "reader sees the first beat");
      // The bucket goes away: every later KV write fails, the beats still travel.
      await (await new Kvm(a!.connection).open(bucket)).destroy();
      const at = Date.now() + 1;
      await writer.heartbeat(beat(at));
      await eventually(() => reader.get("hc")?.at === at, "reader sees the second beat");
      await eventually(() => storeErrors.length > 0, "the failed KV write is reported");
      assert.ok(reader.isAlive("hc"));
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await Promise.all([a!.close(), b!.close()]);
    }
  });
}
