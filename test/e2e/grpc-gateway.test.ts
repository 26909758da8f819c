import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { GrpcTestClient } from "../support/grpc-gateway-client.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";
import { freePort } from "../support/server-process.ts";

type Json = Record<string, any>;

/** The partner gRPC gateway end to end, over a real gRPC client and real processes, in each topology. */
for (const kind of ["embedded", "distributed"] as const satisfies readonly TopologyKind[]) {
  describe(`partner gRPC gateway (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    let address: string;
    const clients: GrpcTestClient[] = [];

    const connect = async (): Promise<GrpcTestClient> => {
      const c = await GrpcTestClient.initialized(address, { token: topo.token });
      clients.push(c);
      return c;
    };
    const startThread = async (c: GrpcTestClient, params: Json = {}): Promise<string> => {
      const from = c.frames.length;
      const r = await c.call("thread/start", params);
      const threadId = r.thread.id as string;
      await c.waitFor((f) => f.method === "thread/started" && f.params.thread.id === threadId, { from });
      return threadId;
    };

    before(async () => {
      sim = await startModelSim({ port: 0 });
      const port = await freePort();
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV, THREADMESH_GATEWAY_PORT: String(port) } });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
      address = `127.0.0.1:${port}`;
    });

    after(async () => {
      for (const c of clients) c.cancel();
      await topo?.stop();
      await sim?.close();
    });

    test("a wrong token is refused with UNAUTHENTICATED", async () => {
      const c = await GrpcTestClient.connect(address, { token: "wrong" });
      clients.push(c);
      assert.equal((await c.waitEnd()).code, grpc.status.UNAUTHENTICATED);
    });

    test("a turn with a command approval answered over the stream", async () => {
      const c = await connect();
      const threadId = await startThread(c, { approvalPolicy: "on-request", sandbox: "workspace-write" });
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-grpc", arguments: { command: ["bash", "-lc", "echo ran-over-grpc"], sandbox_permissions: "require_escalated", justification: "say hello" } }] },
        { output: [{ type: "message", text: "Done." }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: [{ type: "text", text: "run it" }] });
      const req = await c.waitFor((f) => f.method === "item/commandExecution/requestApproval", { from });
      assert.equal(req.params.itemId, "call-grpc");
      c.respond(req.id, { decision: "accept" });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "completed");
      const item = c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution")!;
      assert.equal(item.params.item.aggregatedOutput, "ran-over-grpc\n");
      assert.ok(c.frames.slice(from).some((f) => f.method === "serverRequest/resolved" && f.params.requestId === req.id));
    });

    test("a stream broken mid-turn resumes with afterSeq on a new stream: every delta once, in order", async () => {
      const watcher = await connect();
      const threadId = await startThread(watcher);
      const words = Array.from({ length: 400 }, (_, i) => `w${i} `);
      sim.script(threadId, [{ output: [{ type: "message", text: "materialized" }] }, { output: [{ type: "message", text: words }] }]);
      let from = watcher.frames.length;
      const first = await watcher.call("turn/start", { threadId, input: [{ type: "text", text: "first" }] });
      await watcher.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === first.turn.id, { from });

      const dropper = await connect();
      await dropper.call("thread/resume", { threadId, excludeTurns: true });
      from = watcher.frames.length;
      const { turn } = await watcher.call("turn/start", { threadId, input: [{ type: "text", text: "stream a lot" }] });
      await dropper.waitFor((f) => f.method === "item/agentMessage/delta" && String(f.params.delta).includes("w40 "));
      dropper.cancel();
      const seen = Math.max(...dropper.frames.map((f) => (typeof f.seq === "number" ? f.seq : 0)));
      await watcher.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });

      const ofThread = (f: Json): boolean => typeof f.seq === "number" && (f.params?.threadId === threadId || f.params?.thread?.id === threadId);
      const expected = watcher.frames.slice(from).filter((f) => ofThread(f) && f.seq > seen).map((f) => [f.method, f.seq]);
      assert.ok(expected.length > 0, "the stream broke before the turn's end");
      const back = await connect();
      const fromBack = back.frames.length;
      const res = await back.call("thread/resume", { threadId, afterSeq: seen });
      assert.equal(res.replay.recovered, true);
      await back.waitFor((f) => f.method === "thread/goal/cleared" && f.params.threadId === threadId, { from: fromBack });
      const got = back.frames.slice(fromBack).filter(ofThread).map((f) => [f.method, f.seq]);
      assert.equal(got.at(-1)?.[0], "thread/goal/cleared");
      assert.deepEqual(got.slice(0, -1), expected);
      const text = [...dropper.frames, ...back.frames.slice(fromBack)]
        .filter((f) => f.method === "item/agentMessage/delta" && f.params.turnId === turn.id)
        .map((f) => f.params.delta as string)
        .join("");
      assert.equal(text, words.join(""), "the deltas before the break and the replayed ones make the whole answer exactly once");
    });
  });
}
