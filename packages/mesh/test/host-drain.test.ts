import { test } from "node:test";
import assert from "node:assert/strict";
import { hostDrainSubject } from "@threadmesh/protocol";
import { BusError, InProcessBus, requestHostDrain, serveHostDrain } from "../src/index.ts";

test("a drain request reaches the named host only, with its deadline; malformed ones are reported and unanswered; an absent host is noResponders", async () => {
  const bus = new InProcessBus();
  const asked: Array<[string, number]> = [];
  const invalid: string[] = [];
  const subs = ["host-a", "host-b"].map((id) => serveHostDrain(bus, id, (deadlineMs) => (asked.push([id, deadlineMs]), id === "host-a" ? "draining" : "stopped"), (r) => invalid.push(r)));
  try {
    assert.deepEqual(await requestHostDrain(bus, "host-a", 2_500), { v: 1, hostId: "host-a", state: "draining" });
    assert.deepEqual(await requestHostDrain(bus, "host-b", 0), { v: 1, hostId: "host-b", state: "stopped" });
    assert.deepEqual(asked, [["host-a", 2_500], ["host-b", 0]]);

    await assert.rejects(bus.request(hostDrainSubject("host-a"), new TextEncoder().encode('{"v":1,"deadlineMs":-1}'), { timeoutMs: 200 }), (e: unknown) => e instanceof BusError && e.kind === "timeout");
    await assert.rejects(bus.request(hostDrainSubject("host-a"), new TextEncoder().encode("nope"), { timeoutMs: 200 }), (e: unknown) => e instanceof BusError && e.kind === "timeout");
    assert.equal(invalid.length, 2);
    assert.equal(asked.length, 2, "malformed requests drain nothing");

    await assert.rejects(requestHostDrain(bus, "host-c", 1_000), (e: unknown) => e instanceof BusError && e.kind === "noResponders");
    await assert.rejects(requestHostDrain(bus, "host-a", -5), /Too small|>=0/);
  } finally {
    for (const s of subs) s.unsubscribe();
    await bus.close();
  }
});
