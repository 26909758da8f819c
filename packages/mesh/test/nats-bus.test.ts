import { after, test } from "node:test";
import assert from "node:assert/strict";
import { NatsBus } from "@threadmesh/mesh/nats";
import { startNatsServer } from "../../../test/support/nats-server.ts";
import { describeBus } from "./bus-behaviour.ts";
import { Received, bytes, uniquePrefix } from "./received.ts";

/** Each round waits for one flush, which settles at the latest at the client's next dial (~2 s). */
const MAX_RECONNECT_ROUNDS = 20;

const server = await startNatsServer();

if (server === null) {
  test("NatsBus", (t) => t.skip("nats-server not installed"));
} else {
  after(() => server.stop());
  const url = server.url;

  describeBus("NatsBus", async () => {
    const deliveryErrors: unknown[] = [];
    const onDeliveryError = (err: unknown) => deliveryErrors.push(err);
    const bus = await NatsBus.connect({ servers: url, name: "test-bus", onDeliveryError });
    const other = await NatsBus.connect({ servers: url, name: "test-other", onDeliveryError });
    return {
      bus,
      other,
      deliveryErrors,
      cleanup: async () => {
        await Promise.all([bus.close(), other.close()]);
      },
    };
  });

  test("NatsBus reconnects after the server restarts and keeps its subscriptions", { timeout: 30_000 }, async () => {
    const first = await startNatsServer();
    assert.ok(first);
    let restarted: Awaited<ReturnType<typeof startNatsServer>> = null;
    const bus = await NatsBus.connect({ servers: first.url, name: "test-reconnect" });
    // Subscribers read back what was routed to the lost connection when this fires.
    const reconnected = new Promise<void>((resolve) => bus.onReconnect(resolve));
    try {
      const p = uniquePrefix();
      const r = new Received();
      bus.subscribe(`${p}.evt`, r.handler);
      await bus.flush();
      assert.equal(bus.connected, true);
      await first.stop();
      restarted = await startNatsServer({ port: first.port });
      assert.ok(restarted);
      // nats.js drops what is buffered while it redials and rejects pending flushes at each dial, so
      // publish only after a flush succeeded; the echo then arrives before the next flush's PONG.
      for (let attempt = 0; r.messages.length === 0; attempt++) {
        assert.ok(attempt < MAX_RECONNECT_ROUNDS, "no reconnect");
        try {
          await bus.flush();
        } catch {
          continue;
        }
        bus.publish(`${p}.evt`, bytes(String(attempt)));
        await bus.flush().catch(() => {});
      }
      assert.equal(bus.connected, true);
      await reconnected;
    } finally {
      await bus.close();
      await restarted?.stop();
    }
  });

  test("NatsBus.connect rejects when no server listens", async () => {
    await assert.rejects(NatsBus.connect({ servers: "nats://127.0.0.1:1", name: "test-unreachable", maxReconnectAttempts: 0 }));
  });
}
