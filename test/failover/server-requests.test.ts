import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TestClient } from "../support/ws-client.ts";
import { connect, failoverCluster, ownerOf, text, type Json } from "./support.ts";

const APPROVAL = "item/commandExecution/requestApproval";

describe("failover: server requests of a lost owner", () => {
  const f = failoverCluster();
  const { clients } = f;

  test("SIGKILL of the owner while an approval is pending: the adopter resolves it for every connection holding it", async () => {
    const first = await connect(f.cluster, clients);
    const second = await connect(f.cluster, clients);
    const threadId = (await first.call("thread/start", { approvalPolicy: "on-request" })).thread.id as string;
    f.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-orphan", arguments: { command: ["bash", "-lc", "true"], sandbox_permissions: "require_escalated" } }] },
    ]);
    const from = [first.frames.length, second.frames.length] as const;
    const { turn } = await first.call("turn/start", { threadId, input: text("run it") });
    const isRequest = (f: Json) => f.method === APPROVAL && f.id !== undefined && f.params?.threadId === threadId;
    const firstRequest = await first.waitFor(isRequest, { from: from[0] });
    await second.call("thread/resume", { threadId, excludeTurns: true });
    const secondRequest = await second.waitFor(isRequest, { from: from[1] });
    const { hostId } = await ownerOf(f.cluster, threadId);

    await f.cluster.host(hostId).proc.kill();
    // Any command for the thread makes the surviving host adopt it.
    await first.call("thread/resume", { threadId, excludeTurns: true });

    for (const [c, req, start] of [[first, firstRequest, from[0]], [second, secondRequest, from[1]]] as const) {
      const resolved = await c.waitFor((f) => f.method === "serverRequest/resolved" && f.params.requestId === req.id, { from: start, timeoutMs: 30_000 });
      assert.deepEqual(resolved.params, { threadId, requestId: req.id });
      const done = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from: start });
      assert.equal(done.params.turn.status, "interrupted");
      assert.match(done.params.turn.error.message, /session host running this turn was lost/);
    }
    assert.notEqual((await ownerOf(f.cluster, threadId)).hostId, hostId);
    assert.deepEqual(clients.flatMap((c) => c.schemaViolations), []);

    await f.cluster.addHost();
  });
});
