import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { connect, type ThreadmeshClient } from "@threadmesh/client";
import { startCluster, type Cluster } from "../../../test/support/cluster.ts";
import { OPERATOR_CAPS_ENV } from "../../../test/support/policy-env.ts";
import { assertStrictlyIncreasing, DeltaTally, drain, droppable, RETRY, words } from "./sdk-suite.ts";

let sim: ModelSim;
let cluster: Cluster;
let client: ThreadmeshClient | undefined;

before(async () => {
  sim = await startModelSim({ port: 0 });
  const c = await startCluster({ simUrl: sim.url, hosts: 1, routers: 2, extraEnv: { ...OPERATOR_CAPS_ENV } });
  if (!c) throw new Error("NATS or PostgreSQL is missing: the distributed mesh cannot start");
  cluster = c;
});

after(async () => {
  client?.close();
  await cluster?.stop();
  await sim?.close();
});

test("a router killed mid-turn: the SDK resumes on the other router and sees every delta exactly once", async () => {
  const drop = droppable();
  const urls: string[] = [];
  let next = 0;
  // A URL provider: the first router, then the second.
  const url = () => {
    const u = cluster.urls[Math.min(next++, cluster.urls.length - 1)]!;
    urls.push(u);
    return u;
  };
  client = await connect({ url, token: cluster.token, reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 }, retry: RETRY, createWebSocket: drop.createWebSocket });
  const thread = await client.thread.start({ approvalPolicy: "never", sandbox: "read-only" });
  const n = 300;
  sim.script(thread.id, [{ chunkDelayMs: 10, output: [{ type: "message", text: words(n) }] }]);
  const turn = await thread.turn.start("stream through a router failure");
  const tally = new DeltaTally();
  const draining = drain(turn, tally);
  await tally.reached(n / 4);
  const atKill = tally.deltas;
  await cluster.routers[0]!.kill();
  await draining;
  const done = await turn.completed;
  assert.equal(done.status, "completed");
  assert.deepEqual(urls, [cluster.urls[0], cluster.urls[1]], "reconnected to the surviving router");
  assert.ok(atKill < n, "the turn was still streaming when the router died");
  assert.equal(drop.sockets.length, 2, "one reconnection");
  assert.equal(tally.deltas, n, "every delta once");
  assert.equal(tally.text, words(n).join(""));
  assertStrictlyIncreasing(tally.seqs);
  // The thread keeps working on the new router.
  sim.script(thread.id, [{ output: [{ type: "message", text: ["after", " failover"] }] }]);
  const second = await thread.turn.start("again");
  assert.equal((await second.completed).status, "completed");
});
