import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHostRegistry, MemoryOwnerLeases } from "@threadmesh/mesh";
import { ErrorCode } from "@threadmesh/protocol";
import type { Authenticator } from "@threadmesh/router";
import { eventually } from "../../../../test/support/eventually.ts";
import { TENANT, startRouter, type Frame, type TestClient } from "../harness.ts";

/** The principal's priority class comes from a test header: the authenticator is not under test here. */
const byHeader: Authenticator = {
  authenticate: async (req) => ({ ok: true, principal: { tenant: TENANT, method: "test", priorityClass: Number(req.headers["x-priority-class"] ?? 1) } }),
};

describe("turn/start shedding at the router", () => {
  test("with the hosts at 3× capacity the lowest class's turn/start gets -32001 while the top class's is forwarded; turn/steer is not shed", async (t) => {
    const hosts = new MemoryHostRegistry();
    const owners = new MemoryOwnerLeases();
    const beat = () => void hosts.heartbeat({ hostId: "h1", loadedThreads: 10, activeTurns: 30, capacity: 10, eventLoopLagMs: 0, draining: false, at: Date.now() });
    beat();
    const beating = setInterval(beat, 100);
    t.after(() => clearInterval(beating));
    const h = await startRouter({}, { mesh: { hosts, owners }, authenticator: byHeader });
    t.after(() => h.close());
    const threadId = randomUUID();
    h.host.own(threadId);
    const low = await h.client({ headers: { "x-priority-class": "0" } });
    const top = await h.client({ headers: { "x-priority-class": "9" } });
    const start = (c: TestClient) => c.request("turn/start", { threadId, input: [{ type: "text", text: "hi", text_elements: [] }] });

    await eventually(async () => (await h.metric("tm_router_shedding_pressure")) === 3, "the router sees the hosts' pressure");
    const shed = await eventually(async () => {
      const r = await start(low);
      return "error" in r ? r : undefined;
    }, "a turn/start of the lowest class is shed");
    const error = shed.error as { code: number; data: { reason: string; retryAfterMs: number } };
    assert.equal(error.code, ErrorCode.Overloaded);
    assert.equal(error.data.reason, "serverOverloaded");
    assert.ok(error.data.retryAfterMs > 1_000, `retryAfterMs ${error.data.retryAfterMs} grows with pressure`);

    const topReply: Frame = await start(top);
    assert.ok(!("error" in topReply), `the top class is admitted: ${topReply.__raw}`);
    const steered = h.host.commands.filter((c) => c.env.method === "turn/steer").length;
    const steer = await low.request("turn/steer", { threadId, expectedTurnId: "turn-1", input: [{ type: "text", text: "more", text_elements: [] }] });
    assert.notEqual((steer.error as { data?: { reason?: string } } | undefined)?.data?.reason, "serverOverloaded", "turn/steer is never shed");
    assert.equal(h.host.commands.filter((c) => c.env.method === "turn/steer").length, steered + 1, "the steer reached the host");

    assert.ok((await h.metric("tm_router_turns_shed_total", { class: "0" })) >= 1);
    assert.equal(await h.metric("tm_router_turns_shed_total", { class: "9" }), 0);
    assert.ok((await h.metric("tm_router_shedding_admitted_fraction", { class: "0" })) < 1);
    assert.equal(await h.metric("tm_router_shedding_admitted_fraction", { class: "9" }), 1);
  });
});
