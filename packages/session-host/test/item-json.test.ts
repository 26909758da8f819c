import { test } from "node:test";
import assert from "node:assert/strict";
import { deepFreeze, itemJson, itemJsonBytes, requestBodyJson } from "../src/model/item-json.ts";
import { builtinToolSpecs } from "../src/tools/tool-specs.ts";

const history = () => [
  deepFreeze({ type: "message", role: "user", content: [{ type: "input_text", text: "héllo \"there\"\n" }] }),
  deepFreeze({ type: "function_call", call_id: "c1", name: "shell", arguments: "{\"command\":[\"ls\"]}" }),
  deepFreeze({ type: "function_call_output", call_id: "c1", output: "a\u0000b ✓" }),
];

test("a request body is the document JSON.stringify gives, with every field", () => {
  const params = {
    model: "m",
    instructions: "be brief",
    input: history(),
    tools: builtinToolSpecs([]),
    tool_choice: "auto",
    parallel_tool_calls: false,
    store: false,
    stream: true,
    prompt_cache_key: undefined,
    reasoning: { effort: "high" },
  };
  assert.deepEqual(JSON.parse(requestBodyJson(params)), JSON.parse(JSON.stringify(params)));
  assert.deepEqual(JSON.parse(requestBodyJson({ input: [], tools: [] })), { input: [], tools: [] });
  assert.deepEqual(JSON.parse(requestBodyJson({ model: "m" })), { model: "m" });
});

test("an item is serialised once and its size agrees with its JSON", () => {
  const [item] = history();
  const first = itemJson(item);
  assert.equal(itemJson(item), first);
  assert.equal(itemJsonBytes(item), Buffer.byteLength(first));
  assert.equal(itemJson("a\"b"), JSON.stringify("a\"b"));
  assert.equal(itemJson(null), "null");
});

test("a frozen history entry cannot change under its remembered JSON", () => {
  const [item] = history() as Array<{ content: Array<{ text: string }> }>;
  itemJson(item);
  assert.throws(() => {
    item!.content[0]!.text = "changed";
  }, TypeError);
  assert.match(itemJson(item), /héllo/);
});
