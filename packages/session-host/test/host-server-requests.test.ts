import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus } from "@threadmesh/mesh";
import type { SimOutput } from "@threadmesh/model-sim";
import { createTelemetry } from "@threadmesh/telemetry";
import { OPERATOR_POLICY_CAPS, SessionHost } from "../src/index.ts";
import { HOST_STOPPED_ERROR } from "../src/thread-loader.ts";
import { TENANT, startHarness, startThread, text, type Harness } from "./host-harness.ts";
import { HostTestClient, type Frame } from "./host-test-client.ts";

const APPROVAL = "item/commandExecution/requestApproval";

function escalatedShell(callId: string): SimOutput {
  return { type: "function_call", name: "shell", callId, arguments: { command: ["bash", "-lc", "true"], sandbox_permissions: "require_escalated" } };
}

/** Starts a turn on `c` and waits for its first server request. */
async function turnUntilRequest(c: HostTestClient, threadId: string): Promise<{ from: number; turnId: string; req: Frame & { kind: "r" } }> {
  const from = c.frames.length;
  const { turn } = await c.call("turn/start", { threadId, input: text("run it") });
  const req = (await c.waitFor((f) => f.kind === "r" && f.threadId === threadId, from, "a server request")) as Frame & { kind: "r" };
  return { from, turnId: turn.id, req };
}

/** The thread's stored requests once every write its owner issued so far is stored (`thread/read` waits for them). */
async function storedRequests(h: Harness, c: HostTestClient, threadId: string) {
  await c.call("thread/read", { threadId });
  return h.store.listServerRequests(TENANT, threadId);
}

describe("session host: durable server requests", () => {
  let h: Harness;
  const telemetry = createTelemetry({ service: "host", logLevel: "silent" });
  before(async () => {
    h = await startHarness({ telemetry });
  });
  after(async () => {
    await h.close();
  });

  test("a pending approval is stored with its turn, item and issue order, and removed once answered", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [{ output: [escalatedShell("call-stored")] }, { output: [{ type: "message", text: "done" }] }]);
    const { from, turnId, req } = await turnUntilRequest(c, threadId);

    const [row, ...rest] = await storedRequests(h, c, threadId);
    assert.deepEqual(rest, []);
    assert.deepEqual({ ...row, createdAt: 0 }, {
      tenantId: TENANT,
      threadId,
      requestKey: req.requestKey,
      turnId,
      itemId: "call-stored",
      method: APPROVAL,
      params: req.params,
      seq: req.seq,
      createdAt: 0,
    });

    await c.respond(threadId, req.requestKey, { result: { decision: "accept" } });
    await c.waitTurnCompleted(threadId, turnId, from);
    assert.deepEqual(await storedRequests(h, c, threadId), []);
  });

  test("a request cleared by the end of its turn (interrupt) is removed too", async () => {
    const c = h.client;
    const { threadId } = await startThread(c, { approvalPolicy: "on-request" });
    h.sim.script(threadId, [{ output: [escalatedShell("call-cleared")] }]);
    const { from, turnId, req } = await turnUntilRequest(c, threadId);
    assert.equal((await storedRequests(h, c, threadId)).length, 1);

    await c.call("turn/interrupt", { threadId, turnId });
    await c.waitTurnCompleted(threadId, turnId, from);
    assert.ok(c.frames.slice(from).some((f) => f.kind === "x" && f.requestKey === req.requestKey));
    assert.deepEqual(await storedRequests(h, c, threadId), []);
  });

  test("a host adopting a thread whose owner stopped resolves the requests it left and ends its turn host-lost", async () => {
    // Host A shares the store but not the bus: once it stops answering, nothing it does reaches the
    // clients of host B, and nothing it left behind is cleaned up, as if it had died.
    const busA = new InProcessBus();
    const hostA = await SessionHost.create({
      bus: busA,
      store: h.store,
      model: { baseURL: `${h.sim.url}/v1`, apiKey: "sim", model: "sim-model", maxRetries: 0 },
      config: { workspaceRoot: h.workspaceRoot, policyCaps: OPERATOR_POLICY_CAPS },
      hostId: "host-a",
    });
    const clientA = new HostTestClient(busA, TENANT);
    try {
      const { threadId } = await startThread(clientA, { approvalPolicy: "on-request" });
      h.sim.script(threadId, [{ output: [escalatedShell("call-orphan")] }]);
      const { turnId, req } = await turnUntilRequest(clientA, threadId);
      assert.deepEqual((await storedRequests(h, clientA, threadId)).map((r) => r.requestKey), [req.requestKey]);
      const epochA = (await h.store.getThread(TENANT, threadId))!.ownerEpoch;

      // A client of host B resumes the thread: B claims it with the next epoch and adopts what A left.
      const c = h.client;
      const from = c.frames.length;
      const reply = await c.send("thread/resume", { threadId });
      assert.ok(reply.ok);
      assert.deepEqual(reply.pendingRequests ?? [], [], "an orphaned request is not re-sent");

      const resolved = c.frames.slice(from).filter((f): f is Frame & { kind: "x" } => f.kind === "x" && f.threadId === threadId);
      assert.deepEqual(resolved.map((f) => [f.requestKey, f.method]), [[req.requestKey, APPROVAL]]);
      assert.ok(resolved[0]!.seq > req.seq, "the resolution continues the thread's sequence");
      assert.deepEqual(c.trace(threadId, from), [
        "thread/status/changed:idle",
        "turn/completed:interrupted",
        `resolved:${APPROVAL}`,
        "reply:thread/resume",
      ]);
      const completed = c.notifications(threadId, from).find((f) => f.method === "turn/completed")!;
      assert.ok(completed.epoch > epochA);
      assert.deepEqual(completed.params.turn.error, HOST_STOPPED_ERROR);

      // The resume reply comes after the adopter's writes are stored.
      assert.deepEqual(await h.store.listServerRequests(TENANT, threadId), []);
      const turn = await h.store.getTurn(TENANT, threadId, turnId);
      assert.equal(turn?.status, "interrupted");
      assert.deepEqual(turn?.error, HOST_STOPPED_ERROR);

      const exposed = (await telemetry.metrics.render()).body;
      assert.match(exposed, /^tm_host_turns_recovered_total\{outcome="interrupted"\} 1$/m, "counted as a turn interrupted on adoption");
      assert.match(exposed, /^tm_host_turns_recovered_total\{outcome="continued"\} 0$/m);

      const late = await c.respond(threadId, req.requestKey, { result: { decision: "accept" } });
      assert.deepEqual(late.ok && late.result, { accepted: false }, "an answer to the orphaned request is not taken");
    } finally {
      // A's own cleanup now comes too late: its writes are fenced off by B's epoch.
      await hostA.close();
      clientA.close();
      await busA.close();
    }
    assert.deepEqual(clientA.schemaViolations, []);
  });
});
