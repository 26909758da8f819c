import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MeshMethod, newId, type RespondServerRequestParams } from "@threadmesh/protocol";
import { settle, startRouter, type Harness, type TestClient } from "./harness.ts";

const APPROVAL = "item/commandExecution/requestApproval";

async function startThread(c: TestClient): Promise<string> {
  const r = await c.request("thread/start", {});
  return (r.result as { thread: { id: string } }).thread.id;
}

function responds(h: Harness, threadId: string) {
  return h.host.commands.filter(
    (r) => r.env.method === MeshMethod.RespondServerRequest && (r.env.params as RespondServerRequestParams).threadId === threadId,
  );
}

describe("server requests", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter();
  });
  after(() => h.close());

  test("each connection gets the request with its own id; answers go to the owner; resolved carries each connection's id", async () => {
    const a = await h.client();
    const b = await h.client();
    // Give A an earlier request so that the two connections' counters differ.
    const t0 = await startThread(a);
    h.host.serverRequest(t0, "k0", APPROVAL, { threadId: t0 });
    const a0 = await a.waitForMethod(APPROVAL);
    assert.equal(a0.id, 0);

    const t = await startThread(a);
    await b.request("thread/resume", { threadId: t });
    const params = { threadId: t, turnId: "u", itemId: "call-1", startedAtMs: 1 };
    h.host.serverRequest(t, "k1", APPROVAL, params);
    const ra = await a.waitFor((f) => f.method === APPROVAL && (f.params as { threadId: string }).threadId === t);
    const rb = await b.waitForMethod(APPROVAL);
    assert.deepEqual([ra.id, rb.id], [1, 0]);
    assert.deepEqual(ra.params, params);
    assert.deepEqual(rb.params, params);
    assert.match(ra.__raw, /^\{"id":1,"method":"item\/commandExecution\/requestApproval","params":/);

    a.send({ id: 1, result: { decision: "accept" } });
    a.send({ id: 1, result: { decision: "decline" } });
    const got = await h.host.waitFor((r) => r.env.method === MeshMethod.RespondServerRequest && (r.env.params as RespondServerRequestParams).threadId === t);
    assert.equal(got.subject, `tm.v1.default.cmd.${t}`);
    assert.deepEqual(got.env.params, { threadId: t, requestKey: "k1", result: { decision: "accept" } });

    const seq = h.host.resolved(t, "k1", APPROVAL);
    const xa = await a.waitForMethod("serverRequest/resolved");
    const xb = await b.waitForMethod("serverRequest/resolved");
    assert.deepEqual(xa.params, { threadId: t, requestId: 1 });
    assert.deepEqual(xb.params, { threadId: t, requestId: 0 });
    assert.equal(xa.seq, seq);
    assert.equal(xa.epoch, 1);
    assert.equal(typeof xa.emittedAtMs, "number");

    // Late answers to a resolved request are ignored, and so was A's second answer.
    b.send({ id: 0, result: { decision: "decline" } });
    await b.request("model/list", {});
    await settle(h.bus);
    assert.equal(responds(h, t).length, 1);
  });

  test("a JSON-RPC error answer is relayed as an error", async () => {
    const a = await h.client();
    const t = await startThread(a);
    h.host.serverRequest(t, "kerr", APPROVAL, { threadId: t });
    const req = await a.waitForMethod(APPROVAL);
    a.send({ id: req.id, error: { code: -1, message: "no thanks" } });
    const got = await h.host.waitFor((r) => r.env.method === MeshMethod.RespondServerRequest && (r.env.params as RespondServerRequestParams).threadId === t);
    assert.deepEqual(got.env.params, { threadId: t, requestKey: "kerr", error: { code: -1, message: "no thanks" } });
  });

  test("answers fall back to the placement group when no host holds the thread", async () => {
    const a = await h.client();
    const t = await startThread(a);
    h.host.disown(t);
    h.host.serverRequest(t, "kp", APPROVAL, { threadId: t });
    const req = await a.waitForMethod(APPROVAL);
    a.send({ id: req.id, result: { decision: "accept" } });
    const got = await h.host.waitFor((r) => r.env.method === MeshMethod.RespondServerRequest && (r.env.params as RespondServerRequestParams).threadId === t);
    assert.equal(got.subject, "tm.v1.default.place");
  });

  test("dynamic tool calls get no serverRequest/resolved", async () => {
    const a = await h.client();
    const t = await startThread(a);
    h.host.serverRequest(t, "ktool", "item/tool/call", { threadId: t, callId: "c", tool: "x", arguments: {} });
    const req = await a.waitForMethod("item/tool/call");
    a.send({ id: req.id, result: { contentItems: [], success: true } });
    await h.host.waitFor((r) => r.env.method === MeshMethod.RespondServerRequest && (r.env.params as RespondServerRequestParams).threadId === t);
    h.host.resolved(t, "ktool", "item/tool/call");
    h.host.notify(t, "item/completed", { threadId: t });
    await a.waitForMethod("item/completed");
    assert.ok(!a.methods().includes("serverRequest/resolved"));
    // The mapping is gone: a second answer is not relayed.
    a.send({ id: req.id, result: { contentItems: [], success: true } });
    await a.request("model/list", {});
    await settle(h.bus);
    assert.equal(responds(h, t).length, 1);
  });

  test("unknown ids are ignored silently", async () => {
    const a = await h.client();
    a.send({ id: 424242, result: {} });
    a.send({ id: "nope", error: { code: 1, message: "x" } });
    const r = await a.request("model/list", {});
    assert.deepEqual(a.methods(), ["#1", `#${String(r.id)}`]);
  });

  test("pending requests are replayed after the resume response with the resuming connection's ids", async () => {
    const a = await h.client();
    const t = await startThread(a);
    h.host.serverRequest(t, "kpend", APPROVAL, { threadId: t, itemId: "i1" });
    await a.waitForMethod(APPROVAL);
    await a.close();
    const c = await h.client();
    const start = c.frames.length;
    const r = await c.request("thread/resume", { threadId: t });
    const replayed = await c.waitForMethod(APPROVAL, start);
    assert.deepEqual(c.methods().slice(start), [`#${String(r.id)}`, APPROVAL]);
    assert.equal(replayed.id, 0);
    assert.deepEqual(replayed.params, { threadId: t, itemId: "i1" });
    c.send({ id: 0, result: { decision: "accept" } });
    const got = await h.host.waitFor(
      (x) => x.env.method === MeshMethod.RespondServerRequest && (x.env.params as RespondServerRequestParams).requestKey === "kpend",
    );
    assert.equal(got.env.origin.connId !== undefined, true);
  });

  test("a request published while a resume is in flight is delivered once, after the response", async () => {
    const a = await h.client();
    const t = newId();
    h.host.own(t);
    h.host.handler = (r) => {
      if (r.env.method !== "thread/resume") return undefined;
      // The host raises a request while answering: it is both live and in the reply's pending list.
      h.host.serverRequest(t, "krace", APPROVAL, { threadId: t });
      return undefined;
    };
    const start = a.frames.length;
    const r = await a.request("thread/resume", { threadId: t });
    h.host.handler = undefined;
    await a.waitForMethod(APPROVAL, start);
    h.host.notify(t, "turn/started", { threadId: t });
    await a.waitForMethod("turn/started", start);
    assert.deepEqual(a.methods().slice(start), [`#${String(r.id)}`, APPROVAL, "turn/started"]);
  });
});
