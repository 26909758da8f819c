import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import { METHODS } from "@threadmesh/protocol";
import { startRouter, type Harness } from "./harness.ts";
import { schemaErrors } from "./schema.ts";

/** Schemas that live outside `v2/` or only in the experimental tree. */
const LOCATION: Record<string, { experimental?: boolean; dir?: "v1" | "v2" }> = {
  InitializeResponse: { dir: "v1" },
  CollaborationModeListResponse: { experimental: true },
  BedrockCheckGovCloudRequirementsResponse: { experimental: true },
};

const PARAMS: Record<string, unknown> = {
  "model/list": {},
  "config/read": { includeLayers: true },
  "account/rateLimits/read": undefined,
  "configRequirements/read": undefined,
  "modelProvider/default/set": { providerId: "openai" },
};

describe("requests the router answers itself", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({
      codexHome: "/srv/codex-home",
      models: [
        { id: "m-default", description: "the default", isDefault: true },
        { id: "m-second", displayName: "Second" },
        { id: "m-hidden", hidden: true },
        { id: "m-third" },
      ],
      defaults: { approvalPolicy: "never", sandbox: "read-only" },
    });
  });
  after(() => h.close());

  test("every route-router method answers with a result valid against the official schema", async () => {
    const c = await h.client({ capabilities: { experimentalApi: true } });
    const routed = Object.entries(METHODS).filter(([, s]) => s.route === "router");
    assert.ok(routed.length >= 11);
    for (const [method, spec] of routed) {
      if (method === "initialize") continue;
      const params = method in PARAMS ? PARAMS[method] : {};
      const r = await c.request(method, params);
      assert.ok("result" in r, `${method}: ${r.__raw}`);
      const errors = schemaErrors(spec.resultSchema, r.result, LOCATION[spec.resultSchema]);
      assert.equal(errors, null, `${method}: ${errors}`);
    }
    assert.equal(h.host.commands.length, 0, "nothing reached a host");
  });

  test("initialize reports the user agent, codexHome and platform, valid against the schema", async () => {
    const c = await h.client({ init: false });
    const r = await c.request("initialize", { clientInfo: { name: "my_client", title: "Mine", version: "9.8.7" } });
    const result = r.result as Record<string, string>;
    assert.equal(schemaErrors("InitializeResponse", result, LOCATION.InitializeResponse), null);
    const arch = ({ x64: "x86_64", arm64: "aarch64" } as Record<string, string>)[process.arch] ?? process.arch;
    assert.equal(result.userAgent, `my_client/0.171.0 (${os.type()} ${os.release()}; ${arch}) threadmesh (my_client; 9.8.7)`);
    assert.equal(result.codexHome, "/srv/codex-home");
    assert.equal(result.platformFamily, "unix");
    assert.equal(result.platformOs, process.platform === "darwin" ? "macos" : "linux");
  });

  test("model/list pages with a decimal cursor and hides hidden models unless asked", async () => {
    const c = await h.client();
    const p1 = (await c.request("model/list", { limit: 2 })).result as { data: Array<{ id: string; isDefault: boolean }>; nextCursor: string | null };
    assert.deepEqual(p1.data.map((m) => m.id), ["m-default", "m-second"]);
    assert.equal(p1.nextCursor, "2");
    assert.deepEqual(p1.data.map((m) => m.isDefault), [true, false]);
    const p2 = (await c.request("model/list", { limit: 2, cursor: p1.nextCursor })).result as { data: Array<{ id: string }>; nextCursor: string | null };
    assert.deepEqual(p2.data.map((m) => m.id), ["m-third"]);
    assert.equal(p2.nextCursor, null);
    const all = (await c.request("model/list", { includeHidden: true })).result as { data: Array<{ id: string }> };
    assert.deepEqual(all.data.map((m) => m.id), ["m-default", "m-second", "m-hidden", "m-third"]);
    assert.equal(schemaErrors("ModelListResponse", all, {}), null);
    const bad = await c.request("model/list", { cursor: "abc" });
    assert.equal((bad.error as { code: number }).code, -32600);
  });

  test("config/read reports the defaults with config.toml keys, and layers only when asked", async () => {
    const c = await h.client();
    const r = (await c.request("config/read", {})).result as { config: Record<string, unknown>; origins: object; layers: unknown };
    assert.deepEqual(r.config, {
      model: "m-default",
      model_provider: "openai",
      approval_policy: "never",
      sandbox_mode: "read-only",
      model_reasoning_effort: "medium",
    });
    assert.deepEqual(r.origins, {});
    assert.equal(r.layers, null);
    assert.equal(schemaErrors("ConfigReadResponse", r), null);
  });

  test("experimental methods need the experimentalApi capability", async () => {
    const c = await h.client();
    const r = await c.request("collaborationMode/list", {});
    assert.deepEqual(r.error, { code: -32600, message: "collaborationMode/list requires experimentalApi capability" });
  });

  test("account/rateLimits/read accepts omitted params", async () => {
    const c = await h.client();
    const r = await c.request("account/rateLimits/read");
    assert.equal((r.result as { rateLimits: { limitId: string } }).rateLimits.limitId, "codex");
  });
});
