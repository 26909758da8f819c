import { after, test } from "node:test";
import { randomBytes } from "node:crypto";
import { KvHostRegistry, MemoryHostRegistry, NatsBus } from "@threadmesh/mesh";
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
}
