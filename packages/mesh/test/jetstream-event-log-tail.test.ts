import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { JetStreamEventLog, NatsBus } from "@threadmesh/mesh/nats";
import { startNatsServer } from "../../../test/support/nats-server.ts";

test("the window's tail is null for a thread it does not hold, and a failed read rejects instead of guessing", async (t) => {
  const server = await startNatsServer({ jetstream: true });
  if (server === null) {
    t.skip("nats-server not installed");
    return;
  }
  const bus = await NatsBus.connect({ servers: server.url, name: "last-seq" });
  try {
    const log = await JetStreamEventLog.open(bus.connection, { stream: "TM_EVENTS_LASTSEQ" });
    assert.equal(await log.tail("acme", "th-none"), null);
    // Without its stream the read cannot know the floor: an adopting owner must not number events from 0.
    await (await jetstreamManager(bus.connection)).streams.delete("TM_EVENTS_LASTSEQ");
    await assert.rejects(log.tail("acme", "th-none"));
  } finally {
    await bus.close();
    await server.stop();
  }
});
