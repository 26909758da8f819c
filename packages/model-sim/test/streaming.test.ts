import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { ofType, sdkClient, streamEvents } from "./sdk-client.ts";

describe("model-sim streaming through the official SDK", () => {
  let sim: ModelSim;
  let client: OpenAI;

  before(async () => {
    sim = await startModelSim();
    client = sdkClient(sim);
  });
  after(() => sim.close());

  test("text deltas arrive in the real API's order and concatenate to the scripted text", async () => {
    sim.script("text", [{ output: [{ type: "message", text: ["Hel", "lo", " world"] }] }]);
    const events = await streamEvents(client, "text");
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
      ],
    );
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const deltas = ofType(events, "response.output_text.delta");
    assert.equal(deltas.map((d) => d.delta).join(""), "Hello world");
    const itemId = ofType(events, "response.output_item.added")[0]!.item.id;
    for (const d of deltas) assert.deepEqual([d.item_id, d.output_index, d.content_index], [itemId, 0, 0]);
    assert.equal(ofType(events, "response.output_text.done")[0]!.text, "Hello world");
    const done = ofType(events, "response.output_item.done")[0]!.item;
    assert.deepEqual(done, {
      id: itemId,
      type: "message",
      status: "completed",
      content: [{ type: "output_text", annotations: [], logprobs: [], text: "Hello world" }],
      role: "assistant",
    });
  });

  test("a string message is streamed as word deltas", async () => {
    sim.script("words", [{ output: [{ type: "message", text: "  Two  words \n" }] }]);
    const deltas = ofType(await streamEvents(client, "words"), "response.output_text.delta").map((d) => d.delta);
    assert.deepEqual(deltas, ["  Two", "  words \n"]);
  });

  test("reasoning summary deltas stream per summary part", async () => {
    sim.script("reason", [{ output: [{ type: "reasoning", summary: ["Look at files", ["x", "y"]] }, { type: "message", text: "ok" }] }]);
    const events = await streamEvents(client, "reason");
    const deltas = ofType(events, "response.reasoning_summary_text.delta");
    assert.deepEqual(
      deltas.map((d) => [d.summary_index, d.delta]),
      [
        [0, "Look"],
        [0, " at"],
        [0, " files"],
        [1, "x"],
        [1, "y"],
      ],
    );
    assert.deepEqual(
      ofType(events, "response.reasoning_summary_text.done").map((d) => d.text),
      ["Look at files", "xy"],
    );
    assert.deepEqual(
      ofType(events, "response.reasoning_summary_part.added").map((d) => d.summary_index),
      [0, 1],
    );
    const reasoning = ofType(events, "response.output_item.done")[0]!.item;
    assert.deepEqual(reasoning.type === "reasoning" && reasoning.summary.map((s) => s.text), ["Look at files", "xy"]);
    const usage = ofType(events, "response.completed")[0]!.response.usage!;
    assert.equal(usage.output_tokens_details.reasoning_tokens, 5);
    assert.equal(usage.output_tokens, 6);
  });

  test("function call arguments stream as JSON text with the name and call id", async () => {
    const args = { command: ["bash", "-lc", "echo hello && ls -la /tmp"], workdir: "/work" };
    sim.script("call", [{ output: [{ type: "function_call", name: "shell", arguments: args, callId: "call_1" }] }]);
    const events = await streamEvents(client, "call");
    const added = ofType(events, "response.output_item.added")[0]!.item;
    assert.equal(added.type === "function_call" && added.call_id, "call_1");
    const deltas = ofType(events, "response.function_call_arguments.delta");
    assert.ok(deltas.length > 1, "arguments arrive in several deltas");
    assert.deepEqual(JSON.parse(deltas.map((d) => d.delta).join("")), args);
    const argsDone = ofType(events, "response.function_call_arguments.done")[0]!;
    assert.equal(argsDone.name, "shell");
    assert.deepEqual(JSON.parse(argsDone.arguments), args);
    const item = ofType(events, "response.completed")[0]!.response.output[0]!;
    assert.ok(item.type === "function_call");
    assert.deepEqual([item.name, item.call_id, item.status, JSON.parse(item.arguments)], ["shell", "call_1", "completed", args]);
  });

  test("response.completed carries usage and the full output", async () => {
    sim.script("usage", [
      { output: [{ type: "message", text: "a" }, { type: "message", text: "b c" }], usage: { inputTokens: 120, cachedTokens: 100 } },
      { output: [{ type: "message", text: "d" }] },
    ]);
    const first = ofType(await streamEvents(client, "usage"), "response.completed")[0]!.response;
    assert.equal(first.status, "completed");
    assert.deepEqual(
      first.output.map((o) => o.type === "message" && o.content[0]?.type === "output_text" && o.content[0].text),
      ["a", "b c"],
    );
    assert.deepEqual(first.usage, {
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 100, cache_write_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 123,
    });
    const second = ofType(await streamEvents(client, "usage", "a longer second prompt"), "response.completed")[0]!.response;
    const u = second.usage!;
    assert.ok(u.input_tokens > 0);
    assert.ok(u.input_tokens_details.cached_tokens > 0, "the previous request's prefix counts as cached");
    assert.ok(u.input_tokens_details.cached_tokens <= u.input_tokens);
    assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);
  });

  test("the SDK's stream helper accumulates the final response", async () => {
    sim.script("helper", [{ output: [{ type: "reasoning", summary: ["hmm"] }, { type: "message", text: ["Fin", "al"] }] }]);
    const stream = client.responses.stream({ model: "sim-model", input: "hi", prompt_cache_key: "helper" });
    const final = await stream.finalResponse();
    assert.equal(final.output_text, "Final");
    assert.deepEqual(
      final.output.map((o) => o.type),
      ["reasoning", "message"],
    );
  });

  test("reasoning items carry encrypted_content when the request includes it", async () => {
    sim.script("enc", [{ output: [{ type: "reasoning", summary: ["s"] }] }]);
    const stream = await client.responses.create({
      model: "sim-model",
      input: "hi",
      stream: true,
      prompt_cache_key: "enc",
      include: ["reasoning.encrypted_content"],
      store: false,
    });
    let item: OpenAI.Responses.ResponseOutputItem | undefined;
    for await (const ev of stream) if (ev.type === "response.output_item.done") item = ev.item;
    assert.ok(item?.type === "reasoning" && typeof item.encrypted_content === "string" && item.encrypted_content.length > 0);
  });

  test("the response echoes the request's model, tools and prompt_cache_key", async () => {
    sim.script("echo", [{ output: [] }]);
    const tools: OpenAI.Responses.Tool[] = [{ type: "function", name: "shell", parameters: { type: "object" }, strict: false }];
    const stream = await client.responses.create({ model: "gpt-test", input: "hi", tools, stream: true, prompt_cache_key: "echo" });
    const events = [];
    for await (const ev of stream) events.push(ev);
    const created = ofType(events, "response.created")[0]!.response;
    assert.equal(created.status, "in_progress");
    assert.equal(created.model, "gpt-test");
    assert.equal(created.prompt_cache_key, "echo");
    assert.deepEqual(created.tools, tools);
    assert.deepEqual(ofType(events, "response.completed")[0]!.response.output, []);
  });

  test("a request without stream gets the final response object", async () => {
    sim.script("plain", [{ output: [{ type: "message", text: "plain answer" }], usage: { inputTokens: 7, outputTokens: 2 } }]);
    const r = await client.responses.create({ model: "sim-model", input: "hi", prompt_cache_key: "plain" });
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.equal(r.output_text, "plain answer");
    assert.equal(r.usage?.total_tokens, 9);
  });
});
