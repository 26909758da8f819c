import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { startModelSim, type ModelSim, type StreamEnd } from "@threadmesh/model-sim";
import { ofType, sdkClient, streamEvents } from "./sdk-client.ts";

describe("model-sim failure modes through the official SDK", () => {
  let sim: ModelSim;
  let client: OpenAI;

  before(async () => {
    sim = await startModelSim();
    client = sdkClient(sim);
  });
  after(() => sim.close());

  /** Resolves with the next `streamEnd` for `key`. */
  const streamEnd = (key: string): Promise<StreamEnd> =>
    new Promise((resolve) => {
      const on = (e: StreamEnd): void => {
        if (e.key !== key) return;
        sim.off("streamEnd", on);
        resolve(e);
      };
      sim.on("streamEnd", on);
    });

  test("an error event is the last event of the stream", async () => {
    sim.script("err", [{ output: [{ type: "message", text: ["a", "b"] }], fail: { kind: "error", afterEvents: 5, code: "overloaded", message: "try later" } }]);
    const ended = streamEnd("err");
    const events = await streamEvents(client, "err");
    assert.equal(events.length, 6);
    const last = events.at(-1)!;
    assert.ok(last.type === "error");
    assert.deepEqual([last.code, last.message, last.sequence_number], ["overloaded", "try later", 5]);
    assert.equal(ofType(events, "response.completed").length, 0);
    assert.equal((await ended).outcome, "error");
  });

  test("response.failed carries the message and the items finished so far", async () => {
    sim.script("failed", [{ output: [{ type: "message", text: "partial" }, { type: "message", text: "never" }], fail: { kind: "failed", message: "boom", afterEvents: 9 } }]);
    const events = await streamEvents(client, "failed");
    const failed = events.at(-1)!;
    assert.ok(failed.type === "response.failed");
    assert.equal(failed.response.status, "failed");
    assert.deepEqual(failed.response.error, { code: "server_error", message: "boom" });
    assert.equal(failed.response.output.length, 1);
    assert.equal(ofType(events, "response.output_text.delta").length, 1);
  });

  test("by default a failure replaces only response.completed", async () => {
    sim.script("late", [{ output: [{ type: "message", text: "all of it" }], fail: { kind: "failed" } }]);
    const events = await streamEvents(client, "late");
    assert.equal(ofType(events, "response.output_item.done").length, 1);
    assert.equal(events.at(-1)!.type, "response.failed");
  });

  test("an HTTP 500 surfaces as the SDK's InternalServerError", async () => {
    sim.script("h500", [{ output: [], fail: { kind: "http", status: 500, message: "kaput" } }]);
    const ended = streamEnd("h500");
    await assert.rejects(
      client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "h500" }),
      (err: unknown) => err instanceof OpenAI.InternalServerError && err.status === 500 && /kaput/.test(err.message),
    );
    assert.equal((await ended).outcome, "error");
  });

  test("an HTTP 429 surfaces as RateLimitError with retry-after headers", async () => {
    sim.script("h429", [{ output: [], fail: { kind: "http", status: 429, retryAfterMs: 1500 } }]);
    const err = await client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "h429" }).then(
      () => assert.fail("expected a 429"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.RateLimitError);
    assert.equal(err.code, "rate_limit_exceeded");
    assert.equal(err.headers?.get("retry-after-ms"), "1500");
    assert.equal(err.headers?.get("retry-after"), "2");
  });

  test("a cut stream raises in the SDK iterator after the events sent", async () => {
    sim.script("cut", [{ output: [{ type: "message", text: ["x", "y", "z"] }], fail: { kind: "cut", afterEvents: 5 } }]);
    const ended = streamEnd("cut");
    const seen: ResponseStreamEvent[] = [];
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "cut" });
    await assert.rejects(async () => {
      for await (const ev of stream) seen.push(ev);
    });
    assert.deepEqual(
      seen.map((e) => e.sequence_number),
      [0, 1, 2, 3, 4],
    );
    assert.equal((await ended).outcome, "cut");
  });

  test("a cut before any event fails the request with a connection error", async () => {
    sim.script("cut0", [{ output: [], fail: { kind: "cut", afterEvents: 0 } }]);
    await assert.rejects(
      client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "cut0" }),
      OpenAI.APIConnectionError,
    );
  });

  test("a hanging stream stays open until the client aborts", async () => {
    sim.script("hang", [{ output: [{ type: "message", text: ["a", "b", "c"] }], fail: { kind: "hang", afterEvents: 6 } }]);
    const ended = streamEnd("hang");
    const ac = new AbortController();
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "hang" }, { signal: ac.signal });
    const seen: string[] = [];
    for await (const ev of stream) {
      seen.push(ev.type);
      if (seen.length === 6) ac.abort();
    }
    assert.equal(seen.filter((t) => t === "response.output_text.delta").length, 2);
    assert.equal((await ended).outcome, "disconnected");
  });

  test("a client leaving a paced stream between deltas ends it at once", async () => {
    sim.script("paced-leave", [{ output: [{ type: "message", text: ["a", "b", "c", "d"] }], chunkDelayMs: 60_000 }]);
    const ended = streamEnd("paced-leave");
    const ac = new AbortController();
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "paced-leave" }, { signal: ac.signal });
    const deltas: string[] = [];
    for await (const ev of stream) {
      if (ev.type !== "response.output_text.delta") continue;
      deltas.push(ev.delta);
      // The next delta is a minute away: the stream waits on the shared clock when the client goes.
      ac.abort();
    }
    assert.deepEqual(deltas, ["a"]);
    assert.equal((await ended).outcome, "disconnected");
  });

  test("close() ends hanging streams", async () => {
    const local = await startModelSim();
    local.script("*", [{ output: [{ type: "message", text: "x" }], fail: { kind: "hang", afterEvents: 2 } }]);
    const ended = once(local, "streamEnd") as Promise<[StreamEnd]>;
    const stream = await sdkClient(local).responses.create({ model: "m", input: "hi", stream: true });
    const consumed = (async () => {
      const seen: string[] = [];
      for await (const ev of stream) {
        seen.push(ev.type);
        if (seen.length === 2) void local.close();
      }
      return seen;
    })();
    await assert.rejects(consumed);
    assert.equal((await ended)[0].outcome, "disconnected");
    await local.close();
  });

  test("ttftMs delays the first byte and chunkDelayMs spaces the deltas", async () => {
    sim.script("slow", [{ output: [{ type: "message", text: ["a", "b", "c", "d", "e"] }], ttftMs: 60, chunkDelayMs: 15 }]);
    const started = performance.now();
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true, prompt_cache_key: "slow" });
    const headersAt = performance.now() - started;
    const deltaAt: number[] = [];
    for await (const ev of stream) if (ev.type === "response.output_text.delta") deltaAt.push(performance.now() - started);
    // Lower bounds measured from before the request hold however late the client reads; slack is for timer
    // rounding only.
    assert.ok(headersAt >= 57, `headers after ${headersAt} ms`);
    assert.equal(deltaAt.length, 5);
    assert.ok(deltaAt[4]! >= 60 + 4 * 15 - 3, `last delta after ${deltaAt[4]!} ms`);
  });
});
