import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import type OpenAI from "openai";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { ofType, sdkClient } from "./sdk-client.ts";

/** Codex's title request (0.169 and 0.171 send this schema with `outputSchema` on a hidden thread). */
const TITLE_SCHEMA = {
  type: "object",
  properties: { title: { type: "string", minLength: 1, maxLength: 36 } },
  required: ["title"],
  additionalProperties: false,
};
const TITLE_PROMPT =
  "Generate a concise, single-line task title of at most 36 characters and under five words where possible. " +
  "Do not use quotes, markdown, or trailing punctuation. Do not answer the request.\n\nUser prompt:\nWrite a haiku about meshes, please!";

async function withSim(body: (sim: ModelSim) => Promise<void>): Promise<void> {
  const sim = await startModelSim({ generative: { toolCallProbability: 1, tokensPerResponse: 5 } });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

/** Streams a structured-output request the way Threadmesh sends one and returns the answer's text. */
async function structured(client: OpenAI, schema: Record<string, unknown>, prompt: string): Promise<{ text: string; deltas: number }> {
  const stream = await client.responses.create({
    model: "sim-model",
    input: [{ role: "user", content: [{ type: "input_text", text: prompt }] }],
    text: { format: { type: "json_schema", name: "output", schema, strict: false } },
    tools: [{ type: "function", name: "shell", parameters: {}, strict: false }],
    stream: true,
  });
  const events = [];
  for await (const ev of stream) events.push(ev);
  const done = ofType(events, "response.output_text.done");
  assert.equal(done.length, 1, "one text answer, no tool call");
  const deltas = ofType(events, "response.output_text.delta");
  assert.equal(deltas.map((d) => d.delta).join(""), done[0]!.text);
  return { text: done[0]!.text, deltas: deltas.length };
}

describe("model-sim structured output (text.format json_schema)", () => {
  test("a title schema gets a title made from the user prompt, valid for the schema", async () => {
    await withSim(async (sim) => {
      const { text, deltas } = await structured(sdkClient(sim), TITLE_SCHEMA, TITLE_PROMPT);
      const answer: unknown = JSON.parse(text);
      assert.deepEqual(answer, { title: "Write a haiku about meshes" });
      assert.ok(new Ajv().validate(TITLE_SCHEMA, answer));
      assert.ok(deltas > 1, "the JSON is streamed in several deltas");
    });
  });

  test("maxLength cuts at a word boundary; nested objects, arrays, enums, numbers and $refs are valid", async () => {
    const schema = {
      type: "object",
      $defs: { level: { type: "string", enum: ["low", "high"] } },
      properties: {
        title: { type: "string", minLength: 3, maxLength: 12 },
        tags: { type: "array", items: { type: "string", maxLength: 8 }, minItems: 2 },
        score: { type: "integer", minimum: 3, maximum: 9 },
        ratio: { type: "number", exclusiveMinimum: 0.5 },
        ok: { type: "boolean" },
        level: { $ref: "#/$defs/level" },
        kind: { const: "summary" },
        note: { type: ["string", "null"], maxLength: 4 },
        nested: { type: "object", properties: { id: { anyOf: [{ type: "integer" }, { type: "null" }] } }, required: ["id"], additionalProperties: false },
      },
      required: ["title", "tags", "score", "ratio", "ok", "level", "kind", "note", "nested"],
      additionalProperties: false,
    };
    await withSim(async (sim) => {
      const { text } = await structured(sdkClient(sim), schema, "Summarise the incident report for tomorrow");
      const answer = JSON.parse(text) as Record<string, unknown>;
      const ajv = new Ajv();
      assert.ok(ajv.validate(schema, answer), JSON.stringify(ajv.errors));
      assert.equal(answer.title, "Summarise");
      assert.equal(answer.score, 3);
      assert.equal(answer.level, "low");
    });
  });

  test("without text.format the answer stays prose", async () => {
    await withSim(async (sim) => {
      const res = await sdkClient(sim).responses.create({ model: "sim-model", input: "hello", tools: [] });
      assert.match(res.output_text, /^[A-Z][a-z]+( [a-z]+)* [a-z]+\.$/);
      assert.throws(() => JSON.parse(res.output_text));
    });
  });
});
