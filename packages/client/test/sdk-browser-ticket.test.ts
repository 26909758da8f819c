import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { WebSocket as NodeWebSocket } from "ws";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { connect, ConnectError, ticketSocketFactory, type ThreadmeshClient } from "@threadmesh/client";
import { startTopology, type Topology } from "../../../test/support/topology.ts";
import { OPERATOR_CAPS_ENV } from "../../../test/support/policy-env.ts";
import { DeltaTally, drain, droppable, RETRY } from "./sdk-suite.ts";

let sim: ModelSim;
let topo: Topology;
const clients: ThreadmeshClient[] = [];

/** What a browser has: a WebSocket that takes a URL and subprotocols, nothing else (here `ws`, used that way). */
const BrowserLikeWebSocket = NodeWebSocket as unknown as new (url: string, protocols?: string[]) => WebSocket;

before(async () => {
  sim = await startModelSim({ port: 0 });
  // `threadmesh dev` serves the console, and with it POST /console/ticket.
  const t = await startTopology("embedded", { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
  if (!t) throw new Error("the embedded topology did not start");
  topo = t;
});

after(async () => {
  for (const c of clients) c.close();
  await topo?.stop();
  await sim?.close();
});

test("the browser path signs in with a single-use ticket per connection, reconnects included", async () => {
  const factory = ticketSocketFactory({ WebSocket: BrowserLikeWebSocket });
  const drop = droppable();
  const client = await connect({
    url: topo.url,
    token: topo.token,
    retry: RETRY,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    createWebSocket: async (url, token) => {
      const s = await factory(url, token);
      drop.sockets.push(s);
      return s;
    },
  });
  clients.push(client);
  const thread = await client.thread.start({ approvalPolicy: "never" });
  sim.script(thread.id, [{ output: [{ type: "message", text: ["via", " a", " ticket"] }] }]);
  const turn = await thread.turn.start("hi");
  const tally = new DeltaTally();
  await drain(turn, tally);
  assert.equal(tally.text, "via a ticket");
  // A new connection needs a new ticket: drop the socket and see the client come back.
  const back = new Promise<void>((resolve) => client.onStateChange((s) => s === "connected" && resolve()));
  drop.sockets[0]!.close(4000, "dropped by test");
  await back;
  assert.equal(drop.sockets.length, 2);
  const listed = await client.thread.list({});
  assert.ok(listed.data.some((t) => t.id === thread.id));
});

test("a refused credential at the ticket endpoint fails the connect with its status", async () => {
  await assert.rejects(
    connect({ url: topo.url, token: "not-a-valid-token", createWebSocket: ticketSocketFactory({ WebSocket: BrowserLikeWebSocket }) }),
    (err: unknown) => err instanceof ConnectError && err.status === 401 && err.fatal,
  );
});
