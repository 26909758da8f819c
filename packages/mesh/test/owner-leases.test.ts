import { after, test } from "node:test";
import { randomBytes } from "node:crypto";
import { MemoryHostRegistry, MemoryOwnerLeases } from "@threadmesh/mesh";
import { KvHostRegistry, KvOwnerLeases, NatsBus } from "@threadmesh/mesh/nats";
import { startNatsServer } from "../../../test/support/nats-server.ts";
import { describeOwnerLeases } from "./owner-leases-behaviour.ts";

describeOwnerLeases("MemoryOwnerLeases", async () => {
  const leases = new MemoryOwnerLeases();
  const hosts = new MemoryHostRegistry({ leaseTtlMs: 1_000 });
  return { a: leases, b: leases, hosts, cleanup: async () => {} };
});

const server = await startNatsServer({ jetstream: true });
if (server === null) {
  test("KvOwnerLeases", (t) => t.skip("nats-server not installed"));
} else {
  after(() => server.stop());
  describeOwnerLeases("KvOwnerLeases", async () => {
    const suffix = randomBytes(4).toString("hex");
    const [x, y] = await Promise.all([1, 2].map((i) => NatsBus.connect({ servers: server.url, name: `leases-${i}` })));
    const a = await KvOwnerLeases.open(x!.connection, { bucket: `tm_owners_${suffix}` });
    const b = await KvOwnerLeases.open(y!.connection, { bucket: `tm_owners_${suffix}` });
    const hosts = await KvHostRegistry.open(x!.connection, { bucket: `tm_hosts_${suffix}`, leaseTtlMs: 1_000 });
    return {
      a,
      b,
      hosts,
      async cleanup() {
        await Promise.all([a.close(), b.close(), hosts.close()]);
        await Promise.all([x!.close(), y!.close()]);
      },
    };
  });
}
