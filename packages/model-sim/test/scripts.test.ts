import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { SimScriptError, startModelSim, type ModelSim, type RecordedRequest } from "@threadmesh/model-sim";
import { ofType, sdkClient, streamEvents } from "./sdk-client.ts";

const textOf = async (client: OpenAI, key: string, input: string | unknown[] = "hi"): Promise<string> =>
  ofType(await streamEvents(client, key, input), "response.output_text.delta")
    .map((d) => d.delta)
    .join("");

describe("model-sim scripts, records and control API", () => {
  let sim: ModelSim;
  let client: OpenAI;

  before(async () => {
    sim = await startModelSim({ generative: { tokensPerResponse: 3 } });
    client = sdkClient(sim);
  });
  beforeEach(() => sim.reset());
  after(() => sim.close());

  test("scripts route by prompt_cache_key, then the default queue, then generative mode", async () => {
    sim.script("thread-a", [{ output: [{ type: "message", text: "a1" }] }, { output: [{ type: "message", text: "a2" }] }]);
    sim.script("thread-b", [{ output: [{ type: "message", text: "b1" }] }]);
    sim.script("*", [{ output: [{ type: "message", text: "default" }] }]);
    assert.equal(await textOf(client, "thread-b"), "b1");
    assert.equal(await textOf(client, "thread-a"), "a1");
    assert.equal(await textOf(client, "thread-b"), "default");
    assert.equal(await textOf(client, "thread-a"), "a2");
    const generated = await textOf(client, "thread-a");
    assert.equal(generated.split(" ").length, 3, `generative answer: ${generated}`);
  });

  test("requests are recorded per key, in order, with their bodies", async () => {
    const seen: RecordedRequest[] = [];
    const on = (r: RecordedRequest): void => void seen.push(r);
    sim.on("request", on);
    const before = performance.timeOrigin + performance.now();
    await textOf(client, "rec", "first");
    await textOf(client, "other", "elsewhere");
    await textOf(client, "rec", [{ role: "user", content: "first" }, { role: "user", content: "second" }]);
    sim.off("request", on);
    const bodies = sim.requests("rec");
    assert.equal(bodies.length, 2);
    assert.equal(bodies[0]!.input, "first");
    assert.match(JSON.stringify(bodies[1]!.input), /first.*second/);
    assert.equal(bodies[1]!.prompt_cache_key, "rec");
    assert.equal(bodies[1]!.stream, true);
    assert.deepEqual(
      sim.requests().map((b) => b.prompt_cache_key),
      ["rec", "other", "rec"],
    );
    assert.deepEqual(
      seen.map((r) => [r.key, r.seq]),
      [
        ["rec", seen[0]!.seq],
        ["other", seen[0]!.seq + 1],
        ["rec", seen[0]!.seq + 2],
      ],
    );
    assert.ok(seen[0]!.receivedAt >= before && seen[0]!.receivedAt <= performance.timeOrigin + performance.now());
    assert.ok(seen.every((r) => r.bytes > 0 && r.responseId.startsWith("resp_")));
  });

  test("streamEnd follows request for the same response id", async () => {
    const order: string[] = [];
    const onReq = (r: RecordedRequest): void => void order.push(`request ${r.responseId}`);
    const onEnd = (e: { responseId: string; outcome: string }): void => void order.push(`end ${e.responseId} ${e.outcome}`);
    sim.on("request", onReq);
    sim.on("streamEnd", onEnd);
    const events = await streamEvents(client, "ends");
    sim.off("request", onReq);
    sim.off("streamEnd", onEnd);
    const id = ofType(events, "response.completed")[0]!.response.id;
    assert.deepEqual(order, [`request ${id}`, `end ${id} completed`]);
  });

  test("requests without a prompt_cache_key are recorded under *", async () => {
    const stream = await client.responses.create({ model: "m", input: "anon", stream: true });
    for await (const _ of stream);
    assert.equal(sim.requests("*").length, 1);
  });

  test("the record keeps only the newest requests per key", async () => {
    const small = await startModelSim({ maxRequestsPerKey: 2 });
    const c = sdkClient(small);
    for (const input of ["one", "two", "three"]) await textOf(c, "k", input);
    assert.deepEqual(
      small.requests("k").map((b) => b.input),
      ["two", "three"],
    );
    await small.close();
  });

  test("malformed scripts are rejected listing every problem", () => {
    const bad = [{ output: [{ type: "message" }, { type: "nope" }], fail: { kind: "explode" }, ttftMs: -1 }];
    assert.throws(
      () => sim.script("x", bad as never),
      (err: unknown) => err instanceof SimScriptError && err.problems.length === 4,
    );
  });

  test("the HTTP control API scripts, lists and resets a running simulator", async () => {
    const post = (path: string, body?: unknown): Promise<Response> =>
      fetch(`${sim.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });
    const scripted = await post("/_sim/script", { key: "ctl", responses: [{ output: [{ type: "message", text: ["via", " http"] }] }] });
    assert.equal(scripted.status, 200);
    assert.deepEqual(await scripted.json(), { key: "ctl", queued: 1 });
    assert.equal(await textOf(client, "ctl", "from k6"), "via http");

    const listed = await fetch(`${sim.url}/_sim/requests?key=ctl`);
    const bodies = (await listed.json()) as Array<{ input: string }>;
    assert.deepEqual(
      bodies.map((b) => b.input),
      ["from k6"],
    );

    const invalid = await post("/_sim/script", { key: "ctl", responses: [{ output: "nope" }] });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: { message: string } }).error.message, /responses\[0\]\.output/);

    await post("/_sim/script", { key: "ctl", responses: [{ output: [{ type: "message", text: "dropped" }] }] });
    assert.equal((await post("/_sim/reset")).status, 204);
    assert.deepEqual(await (await fetch(`${sim.url}/_sim/requests?key=ctl`)).json(), []);
    assert.notEqual(await textOf(client, "ctl"), "dropped");
  });

  test("GET /v1/models lists the model ids and /healthz answers", async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["sim-model"],
    );
    const health = await fetch(`${sim.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await fetch(`${sim.url}/nope`)).status, 404);
  });

  test("a body that is not a JSON object is a 400", async () => {
    const r = await fetch(`${sim.url}/v1/responses`, { method: "POST", body: "[1,2]", headers: { "content-type": "application/json" } });
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(((await r.json()) as { error: object }).error).sort(), ["code", "message", "param", "type"]);
  });
});
