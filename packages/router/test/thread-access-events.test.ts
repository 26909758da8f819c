import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventHeader, MeshMethod, TEXT_ENCODER, threadEventSubject } from "@threadmesh/protocol";
import { settle, startRouter, TENANT, type Harness, type TestClient } from "./harness.ts";

const APPROVAL = "item/commandExecution/requestApproval";

function answer(c: TestClient, id: unknown): void {
  c.send({ id, result: { decision: "accept" } });
}

async function startThread(c: TestClient): Promise<string> {
  const r = await c.request("thread/start", {});
  return (r.result as { thread: { id: string } }).thread.id;
}

/**
 * Who a thread's server requests reach, read off their `tm-w` header, and what an access change (kind
 * `a`) does to followers. The harness's connections use a user-less credential: `null` among the
 * answerers names them.
 */
describe("server requests and access changes by header", () => {
  let h: Harness;
  let seq = 1_000;
  before(async () => {
    h = await startRouter();
  });
  after(() => h.close());

  const publish = (threadId: string, kind: "r" | "a", extra: Record<string, string>, body = "") => {
    const headers: Record<string, string> = { [EventHeader.Kind]: kind, [EventHeader.ThreadId]: threadId, [EventHeader.Seq]: String(++seq), [EventHeader.Epoch]: "1", ...extra };
    h.bus.publish(threadEventSubject(TENANT, threadId), TEXT_ENCODER.encode(body), headers);
  };
  const request = (threadId: string, key: string, answerers?: Array<string | null>) =>
    publish(threadId, "r", { [EventHeader.Method]: APPROVAL, [EventHeader.RequestKey]: key, ...(answerers === undefined ? {} : { [EventHeader.Answerers]: JSON.stringify(answerers) }) }, JSON.stringify({ threadId, itemId: key }));

  test("a request reaches a follower only when its answerers name it; without the header, every follower", async () => {
    const c = await h.client();
    const threadId = await startThread(c);
    request(threadId, "for-alice", ["alice"]);
    request(threadId, "for-tenant", [null, "alice"]);
    request(threadId, "for-all");
    await settle(h.bus);
    await c.request("model/list", {});
    const asked = c.frames.filter((f) => f.method === APPROVAL).map((f) => (f.params as { itemId: string }).itemId);
    assert.deepEqual(asked, ["for-tenant", "for-all"]);
    // An answer to an id this connection never got is ignored; one to a request it holds goes to the owner.
    const before = h.host.commands.filter((r) => r.env.method === MeshMethod.RespondServerRequest).length;
    answer(c, 99);
    answer(c, c.frames.find((f) => f.method === APPROVAL)!.id);
    await h.host.waitFor((r) => r.env.method === MeshMethod.RespondServerRequest && (r.env.params as { requestKey: string }).requestKey === "for-tenant");
    assert.equal(h.host.commands.filter((r) => r.env.method === MeshMethod.RespondServerRequest).length, before + 1);
  });

  test("an access change resolves the requests of followers who may no longer answer, and keeps administrators following", async () => {
    const c = await h.client();
    const threadId = await startThread(c);
    request(threadId, "held", [null]);
    const held = await c.waitForMethod(APPROVAL);
    // The thread is now shared with nobody and answered by alice alone: a user-less credential still sees it.
    publish(threadId, "a", { [EventHeader.Audience]: "[]", [EventHeader.Answerers]: JSON.stringify(["alice"]) });
    const resolved = await c.waitForMethod("serverRequest/resolved");
    assert.deepEqual(resolved.params, { threadId, requestId: held.id });
    h.host.notify(threadId, "turn/started", { threadId, turn: { id: "t" } }, { seq: ++seq });
    await c.waitForMethod("turn/started");
    // Its answer to the resolved request is one to an unknown id.
    const before = h.host.commands.length;
    answer(c, held.id);
    await c.request("model/list", {});
    await settle(h.bus);
    assert.equal(h.host.commands.filter((r, i) => i >= before && r.env.method === MeshMethod.RespondServerRequest).length, 0);
  });
});
