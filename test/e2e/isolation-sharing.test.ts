import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openTenantStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { newId } from "@threadmesh/protocol";
import { startCluster } from "../support/cluster.ts";
import { startTopology } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";

type Json = Record<string, any>;
type Who = "alice" | "bob" | "dave" | "root";

const text = (t: string) => [{ type: "text", text: t }];
const APPROVAL = "item/commandExecution/requestApproval";

/** Two router URLs (the same one twice in the embedded topology), the shared store, and how to stop. */
interface Routers {
  urls: [string, string];
  databaseUrl: string;
  stop(): Promise<void>;
}

async function startRouters(kind: "embedded" | "distributed", simUrl: string): Promise<Routers> {
  if (kind === "embedded") {
    const t = await startTopology("embedded", { simUrl, extraEnv: { ...OPERATOR_CAPS_ENV } });
    if (!t) throw new Error("required services for the embedded topology are missing");
    return { urls: [t.url, t.url], databaseUrl: t.databaseUrl, stop: () => t.stop() };
  }
  const c = await startCluster({ simUrl, hosts: 1, routers: 2, extraEnv: { ...OPERATOR_CAPS_ENV } });
  if (!c) throw new Error("NATS or PostgreSQL is missing for the distributed topology");
  return { urls: [c.urls[0]!, c.urls[1]!], databaseUrl: c.databaseUrl, stop: () => c.stop() };
}

/** Frames of `c` from `from` on that are not answers to its own requests and name the thread. */
function threadFrames(c: TestClient, threadId: string, from = 0): Json[] {
  return c.frames.slice(from).filter((f) => typeof f.method === "string" && JSON.stringify(f).includes(threadId));
}

/**
 * Sharing inside a tenant with followers on two routers: server requests reach only the thread's owner and
 * the users it delegated them to (an administrator's connection included, unless delegated), an answer
 * from anyone else is one to an unknown request id, and unsharing detaches the user's live followers at
 * once on every router.
 */
function describeSharing(kind: "embedded" | "distributed"): void {
  describe(`sharing and approvals inside a tenant (${kind})`, () => {
    let sim: ModelSim;
    let routers: Routers;
    let tenants: KyselyTenantStore;
    const keys: Record<Who, string> = { alice: "", bob: "", dave: "", root: "" };
    const clients: TestClient[] = [];

    const connect = async (who: Who, router: 0 | 1): Promise<TestClient> => {
      const c = await TestClient.initialized(routers.urls[router], { token: keys[who], name: who });
      clients.push(c);
      return c;
    };
    /** Everything the router wrote to `c` before this returns has been received. */
    const barrier = (c: TestClient) => c.call("model/list", {});
    /** A turn on `threadId` whose shell command waits on an approval; resolves with the turn id. */
    const escalatingTurn = async (owner: TestClient, threadId: string, tag: string): Promise<string> => {
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: `call-${tag}`, arguments: { command: ["bash", "-lc", `echo ${tag}`], sandbox_permissions: "require_escalated", justification: tag } }] },
        { output: [{ type: "message", text: "done" }] },
      ]);
      const { turn } = await owner.call("turn/start", { threadId, input: text(tag) });
      return turn.id as string;
    };
    /** A thread of `owner`'s with one finished turn (a thread without one cannot be resumed). */
    const ownThread = async (owner: TestClient): Promise<string> => {
      const threadId = (await owner.call("thread/start", { approvalPolicy: "on-request" })).thread.id as string;
      sim.script(threadId, [{ output: [{ type: "message", text: "hello" }] }]);
      const from = owner.frames.length;
      const { turn } = await owner.call("turn/start", { threadId, input: text("hello") });
      await owner.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      return threadId;
    };
    const commandItem = (c: TestClient, turnId: string, from: number) =>
      c.frames.slice(from).find((f) => f.method === "item/completed" && f.params.turnId === turnId && f.params.item.type === "commandExecution");

    before(async () => {
      sim = await startModelSim({ port: 0 });
      routers = await startRouters(kind, sim.url);
      tenants = await openTenantStore({ url: routers.databaseUrl, migrate: false, lastUsedFlushMs: 3_600_000 });
      await tenants.createTenant({ id: "acme", name: "Acme" });
      for (const who of ["alice", "bob", "dave"] as const) keys[who] = (await tenants.createApiKey({ tenantId: "acme", name: who, userId: who })).secret;
      keys.root = (await tenants.createApiKey({ tenantId: "acme", name: "root", userId: "root", scopes: ["admin"] })).secret;
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await tenants?.close();
      await routers?.stop();
      await sim?.close();
    });

    test("server requests reach only the owner and its delegates; anyone else's answer is one to an unknown id", async () => {
      const alice = await connect("alice", 0);
      const aliceElsewhere = await connect("alice", 1);
      const bob = await connect("bob", 1);
      const root = await connect("root", 1);
      const threadId = await ownThread(alice);
      await alice.call("thread/share/set", { threadId, users: ["bob"] });
      for (const c of [aliceElsewhere, bob, root]) await c.call("thread/resume", { threadId });

      const from = [alice, aliceElsewhere, bob, root].map((c) => c.frames.length);
      const turnId = await escalatingTurn(alice, threadId, "shared");
      const asked = await alice.waitForMethod(APPROVAL, { from: from[0] });
      await aliceElsewhere.waitForMethod(APPROVAL, { from: from[1] });
      // Answers from connections that were never asked name ids they do not hold: ignored.
      bob.respond(0, { decision: "accept" });
      root.respond(0, { decision: "accept" });
      await barrier(bob);
      await barrier(root);
      alice.respond(asked.id, { decision: "decline" });
      const completed = await bob.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from: from[2] });
      assert.equal(completed.params.turn.status, "completed");
      await root.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from: from[3] });
      assert.equal(commandItem(bob, turnId, from[2]!)?.params.item.status, "declined", "only the owner's answer counted");
      for (const c of [bob, root]) {
        assert.deepEqual(c.methods(from[c === bob ? 2 : 3]).filter((m) => m === APPROVAL || m === "serverRequest/resolved"), [], "a follower who may not answer is not asked");
      }
      // The owner's other connection was asked and told it was resolved.
      await aliceElsewhere.waitFor((f) => f.method === "serverRequest/resolved", { from: from[1] });

      // Delegated: bob is asked, answers, and the command runs; the administrator is still not asked.
      await alice.call("thread/share/set", { threadId, users: ["bob"], approvers: ["bob"] });
      const next = [bob, root].map((c) => c.frames.length);
      const delegatedTurn = await escalatingTurn(alice, threadId, "delegated");
      const req = await bob.waitForMethod(APPROVAL, { from: next[0] });
      bob.respond(req.id, { decision: "accept" });
      await bob.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === delegatedTurn, { from: next[0] });
      const ran = commandItem(bob, delegatedTurn, next[0]!);
      assert.equal(ran?.params.item.status, "completed");
      assert.equal(ran?.params.item.aggregatedOutput, "delegated\n");
      await root.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === delegatedTurn, { from: next[1] });
      assert.ok(!root.methods(next[1]).includes(APPROVAL), "an administrator is asked only when delegated");
      for (const c of [alice, aliceElsewhere, bob, root]) assert.deepEqual(c.schemaViolations, []);
    });

    test("withdrawn delegation closes the user's prompts; unsharing detaches the user's followers on every router at once", async () => {
      const alice = await connect("alice", 0);
      const bobHere = await connect("bob", 0);
      const bobThere = await connect("bob", 1);
      const dave = await connect("dave", 1);
      const threadId = await ownThread(alice);
      await alice.call("thread/share/set", { threadId, users: ["bob", "dave"], approvers: ["bob"] });
      for (const c of [bobHere, bobThere, dave]) await c.call("thread/resume", { threadId });

      // A request bob holds on both connections.
      const from = [alice, bobHere, bobThere, dave].map((c) => c.frames.length);
      const turnId = await escalatingTurn(alice, threadId, "withdrawn");
      const asked = await alice.waitForMethod(APPROVAL, { from: from[0] });
      const held = [await bobHere.waitForMethod(APPROVAL, { from: from[1] }), await bobThere.waitForMethod(APPROVAL, { from: from[2] })];

      // Delegation withdrawn: bob's prompts are resolved for him, his answers are ignored.
      assert.deepEqual(await alice.call("thread/share/set", { threadId, users: ["bob", "dave"] }), { sharedWith: ["bob", "dave"], approvers: [] });
      await bobHere.waitFor((f) => f.method === "serverRequest/resolved" && f.params.requestId === held[0]!.id, { from: from[1] });
      await bobThere.waitFor((f) => f.method === "serverRequest/resolved" && f.params.requestId === held[1]!.id, { from: from[2] });
      bobHere.respond(held[0]!.id, { decision: "accept" });
      bobThere.respond(held[1]!.id, { decision: "accept" });
      await barrier(bobHere);
      await barrier(bobThere);
      const waiting = await alice.call("thread/read", { threadId });
      assert.deepEqual(waiting.thread.status, { type: "active", activeFlags: ["waitingOnApproval"] }, "bob's answers were not taken");

      // Unshared: both of bob's connections stop hearing of the thread; dave's keeps following.
      const cut = [bobHere, bobThere].map((c) => c.frames.length);
      assert.deepEqual(await alice.call("thread/share/set", { threadId, users: ["dave"] }), { sharedWith: ["dave"], approvers: [] });
      alice.respond(asked.id, { decision: "decline" });
      const ended = await dave.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from: from[3] });
      assert.equal(ended.params.turn.status, "completed");
      assert.equal(commandItem(dave, turnId, from[3]!)?.params.item.status, "declined");
      await alice.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turnId, { from: from[0] });
      await alice.call("thread/name/set", { threadId, name: "after the cut" });
      await dave.waitFor((f) => f.method === "thread/name/updated" && f.params.threadId === threadId);
      await alice.waitFor((f) => f.method === "thread/name/updated" && f.params.threadId === threadId);
      for (const [i, c] of [bobHere, bobThere].entries()) {
        await barrier(c);
        assert.deepEqual(threadFrames(c, threadId, cut[i]), [], "nothing of the thread reaches an unshared user's follower");
      }
      // To bob the thread is now an unknown one, on both routers.
      const unknownId = newId();
      for (const c of [bobHere, bobThere]) {
        const hidden = await c.request("thread/read", { threadId });
        const unknown = await c.request("thread/read", { threadId: unknownId });
        assert.equal(JSON.stringify(hidden.error).split(threadId).join("<id>"), JSON.stringify(unknown.error).split(unknownId).join("<id>"));
        const resumed = await c.request("thread/resume", { threadId });
        const resumedUnknown = await c.request("thread/resume", { threadId: unknownId });
        assert.equal(JSON.stringify(resumed.error).split(threadId).join("<id>"), JSON.stringify(resumedUnknown.error).split(unknownId).join("<id>"));
      }
      for (const c of [alice, bobHere, bobThere, dave]) assert.deepEqual(c.schemaViolations, []);
    });
  });
}

describeSharing("embedded");
describeSharing("distributed");
