import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEADLINE_VERSION, ENVELOPE_VERSION, encodeNotification, newId, type ReplyEnvelope } from "@threadmesh/protocol";
import { settle, startRouter, TestClient, type Harness } from "./harness.ts";

describe("routing to session hosts", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({ hostRequestTimeoutMs: 200, maxInflightPerConnection: 2, inflightRetryAfterMs: 123 });
  });
  after(() => h.close());

  test("thread/start goes to the placement group in a command envelope carrying origin and trace", async () => {
    const c = await h.client({ name: "envelope-client", capabilities: { experimentalApi: true } });
    const trace = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: null };
    const r = await c.request("thread/start", { cwd: "/w", bogus: 1 }, { trace });
    assert.ok((r.result as { thread: { id: string } }).thread.id);
    const cmd = await h.host.waitFor((x) => x.env.method === "thread/start" && x.env.origin.clientName === "envelope-client");
    assert.equal(cmd.subject, "tm.v1.default.place");
    assert.equal(cmd.env.v, ENVELOPE_VERSION);
    assert.equal(cmd.env.tenant, "default");
    assert.deepEqual(cmd.env.params, { cwd: "/w", bogus: 1 });
    assert.deepEqual(cmd.env.trace, trace);
    assert.equal(cmd.env.origin.routerId, "router-test");
    assert.equal(cmd.env.origin.experimentalApi, true);
    assert.equal(cmd.env.origin.clientVersion, "1.2.3");
    assert.ok(cmd.env.origin.connId.length > 0);
  });

  test("a command carries a versioned deadline: the request timeout less the reply's margin, from when it was sent", async () => {
    const c = await h.client({ name: "deadline-client" });
    const sent = Date.now();
    await c.request("thread/list", {});
    const cmd = await h.host.waitFor((x) => x.env.method === "thread/list" && x.env.origin.clientName === "deadline-client");
    const d = cmd.env.deadline!;
    assert.equal(d.v, DEADLINE_VERSION);
    // 200 ms timeout: a quarter is kept for the reply's way back.
    assert.equal(d.budgetMs, 150);
    assert.ok(d.sentAtMs >= sent && d.sentAtMs <= Date.now(), "stamped when the router sent it");
  });

  test("the upgrade's traceparent is used for requests without a trace of their own", async () => {
    const traceparent = "00-11111111111111111111111111111111-2222222222222222-01";
    const c = await TestClient.connect(h.url, { traceparent });
    await c.initialize("traced");
    await c.request("thread/list", {});
    const cmd = await h.host.waitFor((x) => x.env.method === "thread/list" && x.env.origin.clientName === "traced");
    assert.deepEqual(cmd.env.trace, { traceparent, tracestate: null });
    await c.close();
  });

  test("a thread command goes to the owner's subject", async () => {
    const c = await h.client();
    const threadId = newId();
    h.host.own(threadId);
    await c.request("turn/start", { threadId, input: [{ type: "text", text: "hi" }] });
    const cmd = await h.host.waitFor((x) => x.env.method === "turn/start" && (x.env.params as { threadId: string }).threadId === threadId);
    assert.equal(cmd.subject, `tm.v1.default.cmd.${threadId}`);
  });

  test("with no owner, a thread command falls back to the placement group once", async () => {
    const c = await h.client();
    const threadId = newId();
    const r = await c.request("thread/read", { threadId });
    assert.deepEqual(r.result, { echo: "thread/read" });
    const cmds = h.host.commands.filter((x) => (x.env.params as { threadId?: string }).threadId === threadId);
    assert.deepEqual(cmds.map((x) => x.subject), ["tm.v1.default.place"]);
  });

  test("host errors are forwarded with code, message and data", async () => {
    const c = await h.client();
    const threadId = newId();
    h.host.handler = (r) =>
      r.env.method === "turn/interrupt" ? { v: ENVELOPE_VERSION, ok: false, error: { code: -32600, message: `thread not found: ${threadId}`, data: { x: 1 } } } : undefined;
    const r = await c.request("turn/interrupt", { threadId, turnId: "t" });
    h.host.handler = undefined;
    assert.deepEqual(r.error, { code: -32600, message: `thread not found: ${threadId}`, data: { x: 1 } });
  });

  test("a host that does not answer in time gives -32001 with retryAfterMs (reason hostTimeout)", async () => {
    const c = await h.client();
    h.host.handler = (r) => (r.env.method === "thread/list" ? null : undefined);
    const r = await c.request("thread/list", {});
    h.host.handler = undefined;
    assert.deepEqual(r.error, { code: -32001, message: "session host did not answer in time; retry later", data: { retryAfterMs: 1000, reason: "hostTimeout" } });
    const m = await h.telemetry.metrics.registry.getSingleMetric("tm_router_request_duration_seconds")!.get();
    assert.ok(m.values.some((v) => v.labels.outcome === "timeout" && v.labels.method === "thread/list"));
  });

  test("before frames precede the response and after frames follow it", async () => {
    const c = await h.client();
    const threadId = newId();
    h.host.handler = (r) =>
      r.env.method === "thread/name/set"
        ? {
            v: ENVELOPE_VERSION,
            ok: true,
            result: {},
            before: [encodeNotification("deprecationNotice", { summary: "b" })],
            after: [encodeNotification("configWarning", { summary: "a" })],
          }
        : undefined;
    const start = c.frames.length;
    const r = await c.request("thread/name/set", { threadId, name: "n" });
    await c.waitForMethod("configWarning", start);
    h.host.handler = undefined;
    assert.deepEqual(c.methods().slice(start), ["deprecationNotice", `#${String(r.id)}`, "configWarning"]);
  });

  test("own notifications respect optOutNotificationMethods", async () => {
    const c = await h.client({ capabilities: { optOutNotificationMethods: ["deprecationNotice"] } });
    h.host.handler = (r) =>
      r.env.method === "thread/read"
        ? { v: ENVELOPE_VERSION, ok: true, result: {}, before: [encodeNotification("deprecationNotice", { summary: "b" })] }
        : undefined;
    await c.request("thread/read", { threadId: newId() });
    h.host.handler = undefined;
    assert.ok(!c.methods().includes("deprecationNotice"));
  });

  test("beyond maxInflightPerConnection requests get -32001 with retryAfterMs and reason", async () => {
    const c = await h.client();
    const release: Array<() => void> = [];
    h.host.handler = (r) =>
      r.env.method === "thread/loaded/list"
        ? new Promise<ReplyEnvelope>((resolve) => release.push(() => resolve({ v: ENVELOPE_VERSION, ok: true, result: { data: [] } })))
        : undefined;
    const first = c.request("thread/loaded/list", {});
    const second = c.request("thread/loaded/list", {});
    const third = await c.request("thread/loaded/list", {});
    assert.deepEqual(third.error, {
      code: -32001,
      message: "Server overloaded; retry later.",
      data: { retryAfterMs: 123, reason: "connectionInflightLimit" },
    });
    await h.host.waitFor(() => release.length === 2);
    for (const r of release) r();
    assert.ok((await first).result && (await second).result);
    h.host.handler = undefined;
    assert.ok((await c.request("thread/loaded/list", {})).result);
  });

  test("with no host at all, requests get a retryable -32001", async () => {
    const other = await startRouter();
    other.host.close();
    const c = await other.client();
    const r = await c.request("thread/list", {});
    assert.equal((r.error as { code: number }).code, -32001);
    assert.equal(((r.error as { data: { reason: string } }).data).reason, "noSessionHost");
    await other.close();
  });
});

describe("lifecycle", () => {
  test("drain refuses new work, waits for requests in flight, then closes connections with 1001", async () => {
    const h = await startRouter();
    const c = await h.client();
    let release!: () => void;
    h.host.handler = (r) =>
      r.env.method === "thread/list" ? new Promise<ReplyEnvelope>((resolve) => (release = () => resolve({ v: ENVELOPE_VERSION, ok: true, result: { data: [] } }))) : undefined;
    const pending = c.request("thread/list", {});
    await h.host.waitForMethod("thread/list");
    const drained = h.router.drain({ deadlineMs: 5_000 });
    assert.equal(h.router.state, "draining");
    const refused = await c.request("model/list", {});
    assert.deepEqual(refused.error, {
      code: -32001,
      message: "Server is draining; retry after reconnecting",
      data: { reason: "serverShuttingDown", retryAfterMs: 500 },
    });
    await assert.rejects(TestClient.connect(h.url), /503/);
    release();
    assert.ok((await pending).result);
    await drained;
    const closed = await c.closed;
    assert.equal(closed.code, 1001);
    await h.close();
    assert.equal(h.router.state, "stopped");
    await h.router.close();
  });

  test("close is idempotent and listen after close fails", async () => {
    const h = await startRouter();
    await Promise.all([h.router.close(), h.router.close()]);
    await assert.rejects(h.router.listen());
    await h.close();
  });
});
