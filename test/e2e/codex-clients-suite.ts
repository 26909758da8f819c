import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";
import { eventually } from "../support/eventually.ts";

type Json = Record<string, any>;

/**
 * What the Codex terminal clients (0.169, 0.171) call besides the core protocol, through a real router:
 * goals, background terminals, permission profiles, the default provider. Every frame is validated
 * against the official schemas of both releases by the test client.
 */
export function describeCodexClients(kind: TopologyKind): void {
  describe(`Codex client calls (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    const clients: TestClient[] = [];
    const connect = async (): Promise<TestClient> => {
      const c = await TestClient.initialized(topo.url, { token: topo.token, experimentalApi: true });
      clients.push(c);
      return c;
    };
    const startedThread = async (c: TestClient, params: Json = {}): Promise<Json> => {
      const from = c.frames.length;
      const r = await c.call("thread/start", params);
      await c.waitFor((f) => f.method === "thread/started" && f.params.thread.id === r.thread.id, { from });
      return r;
    };

    before(async () => {
      sim = await startModelSim({ port: 0 });
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
    });
    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await topo?.stop();
      await sim?.close();
    });

    test("a second connection's resume tells the first the thread has no goal, then the goal once set", async () => {
      const a = await connect();
      const { thread } = await startedThread(a);
      const threadId = thread.id as string;
      sim.script(threadId, [{ output: [{ type: "message", text: "ok" }] }]);
      let from = a.frames.length;
      const r = await a.call("turn/start", { threadId, input: [{ type: "text", text: "hi" }] });
      await a.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === r.turn.id, { from });

      const b = await connect();
      from = a.frames.length;
      let fromB = b.frames.length;
      await b.call("thread/resume", { threadId, excludeTurns: true });
      await a.waitFor((f) => f.method === "thread/goal/cleared" && f.params.threadId === threadId, { from });
      await b.waitFor((f) => f.method === "thread/goal/cleared" && f.params.threadId === threadId, { from: fromB });

      const { goal } = await a.call("thread/goal/set", { threadId, objective: "finish", status: "paused" });
      from = a.frames.length;
      fromB = b.frames.length;
      assert.deepEqual(await b.call("thread/goal/get", { threadId }), { goal });
      await b.call("thread/resume", { threadId, excludeTurns: true });
      const seen = await a.waitFor((f) => f.method === "thread/goal/updated" && f.params.threadId === threadId, { from });
      assert.deepEqual(seen.params.goal, goal);
      await b.waitFor((f) => f.method === "thread/goal/updated" && f.params.threadId === threadId, { from: fromB });
      assert.deepEqual(await a.call("thread/goal/clear", { threadId }), { cleared: true });
    });

    test("/ps and /stop: background terminals are listed empty and cleaned without error", async () => {
      const c = await connect();
      const { thread } = await startedThread(c);
      assert.deepEqual(await c.call("thread/backgroundTerminals/list", { threadId: thread.id }), { data: [], nextCursor: null });
      assert.deepEqual(await c.call("thread/backgroundTerminals/clean", { threadId: thread.id }), {});
    });

    test("a title thread started read-only with the shell switched off reports its profile and offers no shell", async () => {
      const c = await connect();
      const r = await startedThread(c, { permissions: ":read-only", ephemeral: true, config: { "features.shell_tool": false } });
      assert.deepEqual(r.activePermissionProfile, { id: ":read-only", extends: null });
      assert.equal(r.sandbox.type, "readOnly");
      const threadId = r.thread.id as string;
      sim.script(threadId, [{ output: [{ type: "message", text: "A title" }] }]);
      const from = c.frames.length;
      const t = await c.call("turn/start", { threadId, input: [{ type: "text", text: "name this" }] });
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === t.turn.id, { from });
      const tools = ((sim.requests(threadId)[0]!.tools ?? []) as Array<{ name: string }>).map((x) => x.name);
      assert.ok(!tools.includes("shell"), tools.join(", "));
    });

    test("modelProvider/default/set accepts the configured provider and refuses others as Codex does", async () => {
      const c = await connect();
      const provider = (await c.call("config/read", {})).config.model_provider as string;
      const ok = await c.call("modelProvider/default/set", { providerId: provider });
      assert.equal(ok.status, "ok");
      const refused = await c.request("modelProvider/default/set", { providerId: "nope" });
      assert.equal(refused.error.code, -32600);
      assert.equal(refused.error.message, "Model provider `nope` is not configured.");
    });

    test("thread/search/stream sends the matches as one thread/search/partial named by the request id, then the response", async () => {
      const c = await connect();
      const { thread } = await startedThread(c);
      const threadId = thread.id as string;
      sim.script(threadId, [{ output: [{ type: "message", text: "ok" }] }]);
      const from = c.frames.length;
      const r = await c.call("turn/start", { threadId, input: [{ type: "text", text: "a zebrafish question" }] });
      await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === r.turn.id, { from });
      const start = c.frames.length;
      const res = await c.request("thread/search/stream", { searchTerm: "zebrafish" });
      const frames = c.frames.slice(start);
      const partialAt = frames.findIndex((f) => f.method === "thread/search/partial");
      const responseAt = frames.findIndex((f) => f.id === res.id && "result" in f);
      assert.ok(partialAt >= 0 && partialAt < responseAt, "the partial precedes the response");
      assert.equal(frames[partialAt]!.params.requestId, res.id);
      assert.deepEqual(frames[partialAt]!.params.data.map((d: Json) => d.thread.id), [threadId]);
      assert.deepEqual(res.result.data.map((d: Json) => [d.thread.id, d.snippet]), [[threadId, "a zebrafish question"]]);
      const none = c.frames.length;
      const empty = await c.request("thread/search/stream", { searchTerm: "no-such-words-anywhere" });
      assert.deepEqual(empty.result.data, []);
      assert.ok(!c.frames.slice(none).some((f) => f.method === "thread/search/partial"), "no partial without matches");
    });

    test("thread/list takes includedThreadIds (an empty list matches nothing) and reports the reader's read state", async () => {
      const c = await connect();
      const a = await startedThread(c);
      const b = await startedThread(c);
      // Before any turn ended there is no read state: null on read, no key in a list, an update is refused.
      assert.equal((await c.call("thread/read", { threadId: a.thread.id })).readState, null);
      const early = await c.request("thread/readState/update", { threadId: a.thread.id, expectedRevision: "0", operation: { type: "read" } });
      assert.deepEqual(early.error, { code: -32600, message: "thread read state unavailable" });
      const turnIds: Record<string, string> = {};
      for (const t of [a, b]) {
        sim.script(t.thread.id, [{ output: [{ type: "message", text: "ok" }] }]);
        const from = c.frames.length;
        const r = await c.call("turn/start", { threadId: t.thread.id, input: [{ type: "text", text: "hi" }] });
        turnIds[t.thread.id] = r.turn.id;
        await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === r.turn.id, { from });
      }
      // A list is served from the store, where a turn's end lands shortly after its turn/completed.
      const only = await eventually(async () => {
        const page = await c.call("thread/list", { includedThreadIds: [b.thread.id], limit: 50 });
        return Object.keys(page.readStates).length > 0 && page;
      }, "the ended turn reaches the store");
      assert.deepEqual(only.data.map((t: Json) => t.id), [b.thread.id]);
      assert.deepEqual(Object.keys(only.readStates), [b.thread.id]);
      assert.deepEqual(only.readStates[b.thread.id].firstUnread, { type: "turn", turnId: turnIds[b.thread.id] });
      assert.deepEqual((await c.call("thread/list", { includedThreadIds: [] })).data, []);
      const { readState } = await c.call("thread/read", { threadId: a.thread.id });
      assert.deepEqual(readState.firstUnread, { type: "turn", turnId: turnIds[a.thread.id] });

      const from = c.frames.length;
      const marked = await c.call("thread/readState/update", { threadId: a.thread.id, expectedRevision: readState.revision, operation: { type: "read" } });
      assert.equal(marked.readState.firstUnread, null);
      const changed = await c.waitFor((f) => f.method === "thread/readState/changed", { from });
      assert.deepEqual(changed.params, { threadId: a.thread.id, readState: marked.readState });
      const stale = await c.request("thread/readState/update", { threadId: a.thread.id, expectedRevision: readState.revision, operation: { type: "unread" } });
      assert.deepEqual(stale.error, { code: -32600, message: "read state changed", data: { reason: "readStateConflict", readState: marked.readState } });
      // Another user of the tenant would keep its own marks; a client without experimentalApi cannot write them.
      const plain = await TestClient.initialized(topo.url, { token: topo.token });
      clients.push(plain);
      const refused = await plain.request("thread/readState/update", { threadId: a.thread.id, expectedRevision: marked.readState.revision, operation: { type: "read" } });
      assert.equal(refused.error.code, -32600);
      assert.match(refused.error.message, /requires experimentalApi capability/);
      assert.deepEqual((await plain.call("thread/list", { includedThreadIds: [a.thread.id] })).readStates, { [a.thread.id]: marked.readState });
    });

    test("every frame these calls produced validates against the 0.169.0 and 0.171.0 schemas", () => {
      assert.ok(clients.length >= 6);
      for (const c of clients) assert.deepEqual(c.schemaViolations, []);
    });
  });
}
