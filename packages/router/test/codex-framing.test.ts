import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startRouter, type Harness } from "./harness.ts";
import { schemaErrors } from "./schema.ts";

describe("what Codex sends around the handshake and stays silent about", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({});
  });
  after(() => h.close());

  test("an initialized connection hears remoteControl/status/changed once, disabled, with a stable installation id", async () => {
    const c = await h.client({ init: false });
    c.send({ method: "initialized" });
    await c.request("initialize", { clientInfo: { name: "n", version: "1" } });
    c.send({ method: "initialized" });
    c.send({ method: "initialized" });
    const f = await c.waitForMethod("remoteControl/status/changed");
    await c.request("model/list", {});
    assert.equal(c.frames.filter((x) => x.method === "remoteControl/status/changed").length, 1);
    const p = f.params as Record<string, unknown>;
    assert.equal(p.status, "disabled");
    assert.equal(p.environmentId, null);
    assert.match(String(p.installationId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(schemaErrors("RemoteControlStatusChangedNotification", p), null);
    const other = await h.client();
    const g = await other.waitForMethod("remoteControl/status/changed");
    assert.equal((g.params as Record<string, unknown>).installationId, p.installationId);
  });

  test("a client that opted out of remoteControl/status/changed does not get it", async () => {
    const c = await h.client({ capabilities: { optOutNotificationMethods: ["remoteControl/status/changed"] } });
    await c.request("model/list", {});
    assert.ok(!c.frames.some((x) => x.method === "remoteControl/status/changed"));
  });

  test("frames with nothing to answer to get no reply, as with Codex; the next request is answered", async () => {
    const c = await h.client();
    await c.waitForMethod("remoteControl/status/changed");
    const from = c.frames.length;
    for (const frame of ["{}", "42", '"s"', "null", '{"foo":1}', '{"id":null,"method":"x"}', '{"id":1.5,"method":"x"}', '{"id":{},"method":"x"}']) c.send(frame);
    const r = await c.request("model/list", {});
    assert.ok(r.result);
    assert.deepEqual(c.frames.slice(from).map((x) => x.id), [r.id]);
  });
});
