import { after, test } from "node:test";
import { randomBytes } from "node:crypto";
import { InProcessBus, MemoryEventLog } from "@threadmesh/mesh";
import { JetStreamEventLog, NatsBus } from "@threadmesh/mesh/nats";
import { startNatsServer } from "../../../test/support/nats-server.ts";
import { describeEventLog } from "./event-log-behaviour.ts";

describeEventLog("MemoryEventLog", async () => {
  const bus = new InProcessBus();
  const log = new MemoryEventLog(bus, { maxEventsPerThread: 20 });
  return {
    bus,
    log,
    maxEventsPerThread: 20,
    async cleanup() {
      await log.close();
      await bus.close();
    },
  };
});

const server = await startNatsServer({ jetstream: true });
if (server === null) {
  test("JetStreamEventLog", (t) => t.skip("nats-server not installed"));
} else {
  // One stream per server (streams may not overlap in subjects); the tests use distinct threads.
  const bus = await NatsBus.connect({ servers: server.url, name: "event-log" });
  const log = await JetStreamEventLog.open(bus.connection, { stream: `TM_EVENTS_${randomBytes(4).toString("hex")}`, maxEventsPerThread: 20 });
  after(async () => {
    await log.close();
    await bus.close();
    await server.stop();
  });
  describeEventLog("JetStreamEventLog", async () => ({
    bus,
    log,
    maxEventsPerThread: 20,
    cleanup: async () => {},
  }));
}
