import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openTenantPolicyStore, openTenantStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { METHODS, newId, type MethodName } from "@threadmesh/protocol";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";

type Json = Record<string, any>;

/** The ids of one thread a probe names: the thread, one of its turns, one of its items. */
interface ThreadIds {
  threadId: string;
  turnId: string;
  itemId: string;
  cwd: string;
}

const text = (t: string) => [{ type: "text", text: t }];

/**
 * Params of every client method, naming the given ids wherever the method takes one. Typed by the method
 * table, so a method added to it without an entry here fails the typecheck (and the run, below).
 */
const PROBES: Record<MethodName, (ids: ThreadIds) => unknown> = {
  initialize: () => ({ clientInfo: { name: "probe", title: null, version: "1" }, capabilities: null }),
  "thread/start": (ids) => ({ cwd: ids.cwd }),
  "thread/resume": (ids) => ({ threadId: ids.threadId }),
  "thread/fork": (ids) => ({ threadId: ids.threadId, lastTurnId: ids.turnId }),
  "thread/archive": (ids) => ({ threadId: ids.threadId }),
  "thread/unarchive": (ids) => ({ threadId: ids.threadId }),
  "thread/delete": (ids) => ({ threadId: ids.threadId }),
  "thread/unsubscribe": (ids) => ({ threadId: ids.threadId }),
  "thread/name/set": (ids) => ({ threadId: ids.threadId, name: "taken over" }),
  "thread/share/set": (ids) => ({ threadId: ids.threadId, users: ["mallory"], approvers: ["mallory"] }),
  "thread/list": () => ({ limit: 100 }),
  "thread/loaded/list": () => ({ limit: 100 }),
  "thread/search": () => ({ searchTerm: "a", limit: 100 }),
  "thread/search/stream": () => ({ searchTerm: "a", limit: 100 }),
  "thread/read": (ids) => ({ threadId: ids.threadId, includeTurns: true }),
  "thread/turns/list": (ids) => ({ threadId: ids.threadId }),
  "thread/items/list": (ids) => ({ threadId: ids.threadId, turnId: ids.turnId, cursor: { type: "item", itemId: ids.itemId } }),
  "thread/readState/update": (ids) => ({ threadId: ids.threadId, expectedRevision: "0", operation: { type: "read" } }),
  "thread/goal/get": (ids) => ({ threadId: ids.threadId }),
  "thread/goal/set": (ids) => ({ threadId: ids.threadId, objective: "taken over" }),
  "thread/goal/clear": (ids) => ({ threadId: ids.threadId }),
  "thread/backgroundTerminals/list": (ids) => ({ threadId: ids.threadId }),
  "thread/backgroundTerminals/clean": (ids) => ({ threadId: ids.threadId }),
  "thread/backgroundTerminals/terminate": (ids) => ({ threadId: ids.threadId, processId: "1" }),
  "turn/start": (ids) => ({ threadId: ids.threadId, input: text("hello from elsewhere") }),
  "turn/steer": (ids) => ({ threadId: ids.threadId, input: text("steer"), expectedTurnId: ids.turnId }),
  "turn/interrupt": (ids) => ({ threadId: ids.threadId, turnId: ids.turnId }),
  "model/list": () => ({}),
  "modelProvider/default/set": () => ({ providerId: "openai" }),
  "account/rateLimits/read": () => null,
  "account/read": () => ({}),
  "account/usage/read": () => ({ threadId: null }),
  "app/list": () => ({}),
  "app/installed": () => ({}),
  "account/bedrock/checkGovCloudRequirements": () => ({}),
  "config/read": () => ({}),
  "configRequirements/read": () => null,
  "collaborationMode/list": () => ({}),
  "hooks/list": () => ({}),
  "skills/list": () => ({}),
  "plugin/installed": () => ({}),
};

/** A frame as text with the ids replaced by their role, so answers about two different threads compare. */
function normalized(frame: Json, ids: ThreadIds): string {
  const { id: _id, ...rest } = frame;
  let s = JSON.stringify(rest);
  for (const [role, value] of Object.entries(ids)) s = s.split(value).join(`<${role}>`);
  return s;
}

/** The frames a client received that are not answers to its own requests (notifications, server requests). */
function unsolicited(c: TestClient, from = 0): Json[] {
  return c.frames.slice(from).filter((f) => typeof f.method === "string");
}

/**
 * Isolation between tenants and between users of one tenant, over real API keys against a real router:
 * every client method with another tenant's (or another user's) thread, turn, item and request ids gets
 * exactly the answer the same call with unknown ids gets, and nothing of the other thread reaches the
 * caller.
 */
export function describeIsolation(kind: TopologyKind): void {
  describe(`isolation (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    let tenants: KyselyTenantStore;
    const keys: Record<"alice" | "bob" | "root" | "carol", string> = { alice: "", bob: "", root: "", carol: "" };
    const clients: TestClient[] = [];
    let victim: ThreadIds;
    /** alice's connection, holding the victim thread's pending approval. */
    let alice: TestClient;
    let approval: Json;

    const connect = async (who: keyof typeof keys): Promise<TestClient> => {
      const c = await TestClient.initialized(topo.url, { token: keys[who], name: who });
      clients.push(c);
      return c;
    };
    /** Every frame written to `c` before this returns has been received: the router answers in order. */
    const barrier = (c: TestClient) => c.call("model/list", {});

    before(async () => {
      sim = await startModelSim({ port: 0 });
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
      tenants = await openTenantStore({ url: topo.databaseUrl, migrate: false, lastUsedFlushMs: 3_600_000 });
      await tenants.createTenant({ id: "acme", name: "Acme" });
      await tenants.createTenant({ id: "globex", name: "Globex" });
      keys.alice = (await tenants.createApiKey({ tenantId: "acme", name: "alice", userId: "alice" })).secret;
      keys.bob = (await tenants.createApiKey({ tenantId: "acme", name: "bob", userId: "bob" })).secret;
      keys.root = (await tenants.createApiKey({ tenantId: "acme", name: "root", userId: "root", scopes: ["admin"] })).secret;
      keys.carol = (await tenants.createApiKey({ tenantId: "globex", name: "carol", userId: "carol" })).secret;

      // alice's thread, with a turn waiting on her approval of an escalated command.
      alice = await connect("alice");
      const started = await alice.call("thread/start", { approvalPolicy: "on-request" });
      const threadId = started.thread.id as string;
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "shell", callId: `call-${threadId}`, arguments: { command: ["bash", "-lc", "echo escalated"], sandbox_permissions: "require_escalated", justification: "probe" } }] },
        { output: [{ type: "message", text: "done" }] },
      ]);
      const from = alice.frames.length;
      const { turn } = await alice.call("turn/start", { threadId, input: text("run it") });
      approval = await alice.waitForMethod("item/commandExecution/requestApproval", { from });
      victim = { threadId, turnId: turn.id as string, itemId: approval.params.itemId as string, cwd: started.thread.cwd as string };
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await tenants?.close();
      await topo?.stop();
      await sim?.close();
    });

    /**
     * Calls every method twice from `c`: with the victim's ids and with unknown ids of the same shape;
     * the answers must be the same once ids are replaced by their role. Returns the methods probed.
     */
    const probeEveryMethod = async (c: TestClient): Promise<string[]> => {
      const probed: string[] = [];
      for (const method of Object.keys(METHODS) as MethodName[]) {
        const build = PROBES[method];
        assert.ok(build, `no probe for ${method}`);
        // Listings are checked on their own; thread/start names no thread (its cwd is checked on its own).
        if (method === "thread/list" || method === "thread/loaded/list" || method === "thread/start") continue;
        const unknown: ThreadIds = { threadId: newId(), turnId: newId(), itemId: `call-${newId()}`, cwd: victim.cwd };
        const asUnknown = await c.request(method, build(unknown));
        const asVictim = await c.request(method, build(victim));
        assert.equal(normalized(asVictim, victim), normalized(asUnknown, unknown), `${method}: another's ids answer differently from unknown ids`);
        probed.push(method);
      }
      return probed;
    };

    /**
     * On `c`'s own thread, every method whose params name a turn or an item gets the same answer with the
     * victim's turn and item ids as with unknown ones. Returns the methods probed.
     */
    const probeForeignTurnIds = async (c: TestClient): Promise<string[]> => {
      const own = await c.call("thread/start", {});
      const ownThread = own.thread.id as string;
      sim.script(ownThread, [{ output: [{ type: "message", text: "own answer" }] }]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId: ownThread, input: text("mine") });
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      const probed: string[] = [];
      for (const method of Object.keys(METHODS) as MethodName[]) {
        const names = JSON.stringify(PROBES[method](victim) ?? null);
        if (!names.includes(victim.turnId) && !names.includes(victim.itemId)) continue;
        const unknown: ThreadIds = { threadId: ownThread, turnId: newId(), itemId: `call-${newId()}`, cwd: victim.cwd };
        const foreign: ThreadIds = { ...victim, threadId: ownThread };
        const asUnknown = await c.request(method, PROBES[method](unknown));
        const asForeign = await c.request(method, PROBES[method](foreign));
        assert.equal(normalized(asForeign, foreign), normalized(asUnknown, unknown), `${method}: another's turn or item ids answer differently from unknown ones`);
        probed.push(method);
      }
      return probed;
    };

    /** The victim thread is untouched: still loaded, unnamed, waiting on the same approval. */
    const assertVictimUntouched = async () => {
      const read = await alice.call("thread/read", { threadId: victim.threadId, includeTurns: true });
      assert.equal(read.thread.name, null);
      assert.deepEqual(read.thread.status, { type: "active", activeFlags: ["waitingOnApproval"] });
      assert.equal(read.thread.turns.length, 1);
      assert.equal(read.thread.turns[0].status, "inProgress");
      assert.ok(!alice.frames.some((f) => f.method === "serverRequest/resolved" && f.params.threadId === victim.threadId), "the approval was not answered");
    };

    /** thread/list and thread/loaded/list of `c` never name the victim; alice's own do. */
    const assertListsHideVictim = async (c: TestClient) => {
      for (const method of ["thread/list", "thread/loaded/list"] as const) {
        const own = await alice.call(method, PROBES[method](victim));
        assert.ok(JSON.stringify(own).includes(victim.threadId), `${method} of the owner lists the thread`);
        const other = await c.call(method, PROBES[method](victim));
        assert.ok(!JSON.stringify(other).includes(victim.threadId), `${method} of another caller lists the thread`);
      }
    };

    /** An answer to alice's request id on `c` is an answer to an unknown request there. */
    const answerForeignRequest = async (c: TestClient) => {
      const before = c.frames.length;
      c.respond(approval.id, { decision: "accept" });
      c.respond(987_654, { decision: "accept" });
      await barrier(c);
      assert.deepEqual(
        c.frames.slice(before).filter((f) => f.method !== undefined),
        [],
        "answering an unknown or foreign request id produces nothing",
      );
    };

    test("another tenant's ids answer exactly as unknown ids, with zero leaks", async () => {
      const carol = await connect("carol");
      const probed = await probeEveryMethod(carol);
      assert.ok(probed.includes("turn/start") && probed.includes("thread/resume") && probed.includes("thread/share/set"));
      assert.deepEqual((await probeForeignTurnIds(carol)).sort(), ["thread/fork", "thread/items/list", "turn/interrupt", "turn/steer"]);
      await assertListsHideVictim(carol);
      await answerForeignRequest(carol);
      await assertVictimUntouched();
      // A cwd inside another tenant's workspace is refused.
      const start = await carol.request("thread/start", { cwd: victim.cwd });
      assert.equal(start.error?.code, -32602);
      // Broadcasts of the victim thread stay in its tenant.
      const root = await connect("root");
      const from = carol.frames.length;
      await alice.call("thread/name/set", { threadId: victim.threadId, name: "renamed" });
      await root.waitFor((f) => f.method === "thread/name/updated" && f.params.threadId === victim.threadId);
      await barrier(carol);
      assert.deepEqual(unsolicited(carol).filter((f) => JSON.stringify(f).includes(victim.threadId)), [], "no frame of the other tenant's thread");
      assert.ok(carol.frames.length > from, "carol's connection kept working");
    });

    test("another user's unshared thread answers exactly as an unknown one, with zero leaks", async () => {
      const bob = await connect("bob");
      const root = await connect("root");
      const probed = await probeEveryMethod(bob);
      assert.equal(probed.length, Object.keys(METHODS).length - 3);
      assert.equal((await probeForeignTurnIds(bob)).length, 4);
      await assertListsHideVictim(bob);
      await answerForeignRequest(bob);
      await alice.call("thread/name/set", { threadId: victim.threadId, name: "renamed by alice" });
      await root.waitFor((f) => f.method === "thread/name/updated" && f.params.threadId === victim.threadId);
      await barrier(bob);
      assert.deepEqual(unsolicited(bob).filter((f) => JSON.stringify(f).includes(victim.threadId)), [], "no frame of the other user's thread");
      // The tenant's administrator sees it.
      const listed = await root.call("thread/list", { limit: 100 });
      assert.ok(listed.data.some((t: Json) => t.id === victim.threadId));
      const read = await root.call("thread/read", { threadId: victim.threadId });
      assert.equal(read.thread.name, "renamed by alice");
    });

    test("a shared thread is seen by the user it is shared with, who is asked its approvals (and answers them) only once delegated", async () => {
      const bob = await connect("bob");
      // Only the owner (or an administrator) shares.
      const refused = await bob.request("thread/share/set", { threadId: victim.threadId, users: ["bob"] });
      assert.equal(refused.error?.message, `thread not found: ${victim.threadId}`);
      assert.deepEqual(await alice.call("thread/share/set", { threadId: victim.threadId, users: ["bob"] }), { sharedWith: ["bob"], approvers: [] });
      const notOwner = await bob.request("thread/share/set", { threadId: victim.threadId, users: ["bob", "eve"] });
      assert.equal(notOwner.error?.code, -32600);
      const listed = await bob.call("thread/list", { limit: 100 });
      assert.ok(listed.data.some((t: Json) => t.id === victim.threadId));
      // bob follows the thread but is not sent its pending approval (only the owner and its delegates
      // are); an answer from him is one to an unknown request.
      const from = bob.frames.length;
      await bob.call("thread/resume", { threadId: victim.threadId });
      await barrier(bob);
      assert.ok(!bob.methods(from).includes("item/commandExecution/requestApproval"), "a user the thread is merely shared with is not asked");
      bob.respond(0, { decision: "accept" });
      await bob.call("thread/read", { threadId: victim.threadId });
      // alice declines: her answer is the first the owner accepts, so the command never runs.
      const aliceFrom = alice.frames.length;
      alice.respond(approval.id, { decision: "decline" });
      const completed = await alice.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === victim.turnId, { from: aliceFrom });
      assert.equal(completed.params.turn.status, "completed");
      const item = alice.frames.slice(aliceFrom).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution");
      assert.equal(item?.params.item.status, "declined", "bob's accept was not taken");
      await bob.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === victim.turnId, { from });

      // Delegated: bob's answer now counts.
      assert.deepEqual(await alice.call("thread/share/set", { threadId: victim.threadId, users: ["bob"], approvers: ["bob"] }), { sharedWith: ["bob"], approvers: ["bob"] });
      sim.script(victim.threadId, [
        { output: [{ type: "function_call", name: "shell", callId: "call-delegated", arguments: { command: ["bash", "-lc", "echo delegated"], sandbox_permissions: "require_escalated", justification: "delegated" } }] },
        { output: [{ type: "message", text: "done" }] },
      ]);
      const bobFrom = bob.frames.length;
      const { turn } = await alice.call("turn/start", { threadId: victim.threadId, input: text("again") });
      const req = await bob.waitForMethod("item/commandExecution/requestApproval", { from: bobFrom });
      bob.respond(req.id, { decision: "accept" });
      await bob.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from: bobFrom });
      const ran = bob.frames.slice(bobFrom).find((f) => f.method === "item/completed" && f.params.item.type === "commandExecution");
      assert.equal(ran?.params.item.status, "completed");
      assert.equal(ran?.params.item.aggregatedOutput, "delegated\n");

      // Unshared again: bob gets the unknown-thread answer.
      await alice.call("thread/share/set", { threadId: victim.threadId, users: [] });
      const unknownId = newId();
      const hidden = await bob.request("thread/read", { threadId: victim.threadId });
      const unknown = await bob.request("thread/read", { threadId: unknownId });
      assert.equal(normalized(hidden, { ...victim }), normalized(unknown, { ...victim, threadId: unknownId }));
    });

    test("a tenant narrowed to read-only in the store is refused more, in its own workspace root; other tenants keep the server's caps", async () => {
      const policies = await openTenantPolicyStore({ url: topo.databaseUrl, migrate: false });
      try {
        await tenants.createTenant({ id: "initech", name: "Initech" });
        await policies.setTenantLimits("initech", { maxSandbox: "read-only", approvalPolicies: ["on-request"] });
      } finally {
        await policies.close();
      }
      const key = (await tenants.createApiKey({ tenantId: "initech", name: "peter", userId: "peter" })).secret;
      const peter = await TestClient.initialized(topo.url, { token: key, name: "peter" });
      clients.push(peter);
      const write = await peter.request("thread/start", { sandbox: "workspace-write", approvalPolicy: "on-request" });
      assert.equal(write.error?.code, -32602);
      assert.deepEqual(write.error?.data, { field: "sandbox" });
      const never = await peter.request("thread/start", { sandbox: "read-only", approvalPolicy: "never" });
      assert.deepEqual(never.error?.data, { field: "approvalPolicy" });
      const ok = await peter.call("thread/start", { sandbox: "read-only", approvalPolicy: "on-request" });
      assert.ok((ok.cwd as string).startsWith(`${topo.workspaceRoot}/initech/`), "the thread works under its tenant's root");
      const outside = await peter.request("thread/start", { sandbox: "read-only", approvalPolicy: "on-request", cwd: `${topo.workspaceRoot}/acme` });
      assert.equal(outside.error?.code, -32602);
      const carol = await connect("carol");
      const wide = await carol.call("thread/start", { sandbox: "danger-full-access", approvalPolicy: "on-request" });
      assert.equal(wide.sandbox.type, "dangerFullAccess");
    });
  });
}
