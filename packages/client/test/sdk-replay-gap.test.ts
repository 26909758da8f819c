import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { connect, defaultSocketFactory, type ResyncEvent, type ThreadmeshClient, type WireSocket } from "@threadmesh/client";
import { startTopology, type Topology } from "../../../test/support/topology.ts";
import { OPERATOR_CAPS_ENV } from "../../../test/support/policy-env.ts";
import { DeltaTally, drain, RETRY, words } from "./sdk-suite.ts";

let sim: ModelSim;
let topo: Topology;
const clients: ThreadmeshClient[] = [];

before(async () => {
  sim = await startModelSim({ port: 0 });
  // A replay window of 10 messages per thread: a long disconnection outgrows it.
  const t = await startTopology("embedded", { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV, THREADMESH_REPLAY_MAX_EVENTS: "10" } });
  if (!t) throw new Error("the embedded topology did not start");
  topo = t;
});

after(async () => {
  for (const c of clients) c.close();
  await topo?.stop();
  await sim?.close();
});

test("a gap the replay window cannot cover is reported (recovered: false) and the thread reloaded", async () => {
  const sockets: WireSocket[] = [];
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  const client = await connect({
    url: topo.url,
    token: topo.token,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    retry: RETRY,
    // The second connection waits until the turn has ended without this client.
    createWebSocket: async (url, token) => {
      if (sockets.length > 0) await gate;
      const s = await defaultSocketFactory(url, token);
      sockets.push(s);
      return s;
    },
  });
  clients.push(client);
  const observer = await connect({ url: topo.url, token: topo.token });
  clients.push(observer);

  const thread = await client.thread.start({ approvalPolicy: "never" });
  sim.script(thread.id, [{ output: [{ type: "message", text: "ready" }] }]);
  await (await thread.turn.start("warm up")).completed;
  const watched = await observer.thread.resume(thread.id);

  const n = 200;
  sim.script(thread.id, [{ chunkDelayMs: 5, output: [{ type: "message", text: words(n) }] }]);
  const resyncs: ResyncEvent[] = [];
  thread.onResync((e) => resyncs.push(e));
  const turn = await thread.turn.start("long answer");
  const tally = new DeltaTally();
  const draining = drain(turn, tally);
  await tally.reached(5);
  sockets[0]!.close(4000, "dropped by test");
  const endedElsewhere = new Promise<void>((resolve) => watched.on((ev) => ev.method === "turn/completed" && resolve()));
  await endedElsewhere;
  openGate();
  await draining;
  const done = await turn.completed;
  assert.equal(done.status, "completed", "the reloaded snapshot ends the turn");
  assert.equal(resyncs.length, 1);
  assert.equal(resyncs[0]!.recovered, false);
  assert.equal(resyncs[0]!.thread.turns.find((t) => t.id === turn.id)?.status, "completed");
  assert.ok(tally.deltas < n, "the deltas of the gap were not replayed");
  const agent = done.items.find((i) => i.type === "agentMessage");
  assert.equal(agent?.type === "agentMessage" ? agent.text : null, words(n).join(""), "the reloaded turn holds the whole answer");
});
