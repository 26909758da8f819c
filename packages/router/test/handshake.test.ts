import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { newId } from "@threadmesh/protocol";
import { startRouter, type Harness } from "./harness.ts";

describe("framing and handshake", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({ maxFrameBytes: 2048 });
  });
  after(() => h.close());

  test("unparsable JSON gets -32700 with id null", async () => {
    const c = await h.client();
    c.send("{nope");
    const f = await c.waitFor((x) => x.id === null);
    assert.equal((f.error as { code: number }).code, -32700);
  });

  test("a batch array gets -32600 'batch requests are not supported'", async () => {
    const c = await h.client();
    c.send("[]");
    const f = await c.waitFor((x) => x.id === null);
    assert.deepEqual(f.error, { code: -32600, message: "batch requests are not supported" });
  });

  test("a binary frame gets -32600 'binary frames are not supported' and the connection stays usable", async () => {
    const c = await h.client();
    c.ws.send(Buffer.from('{"id":1,"method":"model/list","params":{}}'), { binary: true });
    const f = await c.waitFor((x) => x.id === null);
    assert.deepEqual(f.error, { code: -32600, message: "binary frames are not supported" });
    const r = await c.request("model/list", {});
    assert.ok(r.result);
  });

  test("every request before initialize gets -32600 'Not initialized'", async () => {
    const c = await h.client({ init: false });
    for (const [method, params] of [["thread/list", {}], ["thread/start", {}], ["no/such/method", {}], ["model/list", undefined]] as const) {
      const r = await c.request(method, params);
      assert.deepEqual(r.error, { code: -32600, message: "Not initialized" }, method);
    }
    assert.equal(h.host.commands.filter((x) => x.env.origin.clientName === "").length, 0);
  });

  test("a second initialize gets -32600 'Already initialized'", async () => {
    const c = await h.client();
    const r = await c.request("initialize", { clientInfo: { name: "again", version: "1" } });
    assert.deepEqual(r.error, { code: -32600, message: "Already initialized" });
  });

  test("an unknown method gets -32601", async () => {
    const c = await h.client();
    const r = await c.request("no/such/method", {});
    assert.equal((r.error as { code: number }).code, -32601);
  });

  test("bad params get -32602 naming the field", async () => {
    const c = await h.client();
    const r = await c.request("turn/start", { input: [] });
    const e = r.error as { code: number; message: string };
    assert.equal(e.code, -32602);
    assert.match(e.message, /`threadId`/);
    const wrongType = await c.request("model/list", { limit: "x" });
    assert.equal((wrongType.error as { code: number }).code, -32602);
    assert.match((wrongType.error as { message: string }).message, /limit/);
  });

  test("missing params of a method that requires them get -32602", async () => {
    const c = await h.client();
    const r = await c.request("thread/loaded/list");
    assert.equal((r.error as { code: number }).code, -32602);
  });

  test("initialize with a clientInfo.name that is not a header value fails and leaves the connection uninitialized", async () => {
    const c = await h.client({ init: false });
    const bad = await c.request("initialize", { clientInfo: { name: "bad\rname", version: "1" } });
    assert.deepEqual(bad.error, { code: -32600, message: "Invalid clientInfo.name: 'bad\rname'. Must be a valid HTTP header value." });
    assert.deepEqual((await c.request("model/list", {})).error, { code: -32600, message: "Not initialized" });
    const ok = await c.request("initialize", { clientInfo: { name: "good", version: "1" } });
    assert.ok(ok.result);
  });

  test("initialize params are validated", async () => {
    const c = await h.client({ init: false });
    const r = await c.request("initialize", { clientInfo: { name: "x" } });
    assert.equal((r.error as { code: number }).code, -32602);
    assert.match((r.error as { message: string }).message, /version/);
  });

  test("the initialized notification and unknown notifications get no reply", async () => {
    const c = await h.client({ init: false });
    c.send({ method: "initialized" });
    await c.request("initialize", { clientInfo: { name: "n", version: "1" } });
    c.send({ method: "initialized" });
    c.send({ method: "some/unknown/notification", params: { a: 1 } });
    const r = await c.request("model/list", {});
    assert.ok(r.result);
    assert.deepEqual(c.methods(), ["#1", "#2"]);
  });

  test("thread ids that are not UUIDs get -32600 'invalid thread id: …'", async () => {
    const c = await h.client();
    for (const method of ["turn/start", "thread/read", "thread/resume", "thread/fork"]) {
      const r = await c.request(method, { threadId: "not-a-uuid", input: [] });
      const e = r.error as { code: number; message: string };
      assert.equal(e.code, -32600, method);
      assert.ok(e.message.startsWith("invalid thread id:"), e.message);
    }
  });

  test("thread ids are forwarded in canonical form", async () => {
    const c = await h.client();
    const id = newId();
    await c.request("thread/read", { threadId: `urn:uuid:${id.toUpperCase()}` });
    const got = await h.host.waitFor((r) => r.env.method === "thread/read" && (r.env.params as { threadId: string }).threadId === id);
    assert.ok(got);
  });

  test("ids are echoed exactly: big integers, negatives and strings", async () => {
    const c = await h.client();
    c.send('{"id":9007199254740993,"method":"model/list","params":{}}');
    c.send('{"id":-7,"method":"model/list","params":{}}');
    c.send('{"id":"abc","method":"no/such","params":{}}');
    const big = await c.waitFor((f) => f.__raw.startsWith('{"id":9007199254740993,'));
    const neg = await c.waitFor((f) => f.id === -7);
    const str = await c.waitFor((f) => f.id === "abc");
    assert.ok(big.result && neg.result && str.error);
  });

  test("a jsonrpc member is accepted on input and never sent", async () => {
    const c = await h.client();
    c.send({ jsonrpc: "2.0", id: 50, method: "model/list", params: {} });
    const r = await c.waitFor((f) => f.id === 50);
    assert.ok(r.result);
    for (const f of c.frames) assert.ok(!("jsonrpc" in f), f.__raw);
  });

  test("a frame over the limit gets -32600 'frame exceeds N bytes', then the socket closes with 1009", async () => {
    const c = await h.client();
    c.send(JSON.stringify({ id: 9, method: "model/list", params: { pad: "x".repeat(4096) } }));
    const err = await c.waitFor((f) => f.id === null);
    assert.deepEqual(err.error, { code: -32600, message: "frame exceeds 2048 bytes" });
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.equal(await h.metric("tm_router_connections_closed_total", { reason: "frameTooLarge" }), 1);
  });

  test("a frame far over the limit still gets the error frame before the 1009 close", async () => {
    const c = await h.client();
    c.send("y".repeat(4 * 1024 * 1024));
    const err = await c.waitFor((f) => f.id === null);
    assert.deepEqual(err.error, { code: -32600, message: "frame exceeds 2048 bytes" });
    assert.equal((await c.closed).code, 1009);
  });

  test("a frame just under the limit is processed", async () => {
    const c = await h.client();
    const r = await c.request("model/list", { pad: "x".repeat(1900) });
    assert.ok(r.result);
  });
});
