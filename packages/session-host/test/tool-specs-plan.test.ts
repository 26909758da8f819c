import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePlanArgs } from "../src/tools/plan-tool.ts";
import { ToolArgumentError } from "../src/tools/shell-tool.ts";

test("update_plan arguments map in_progress to inProgress", () => {
  assert.deepEqual(
    parsePlanArgs(
      JSON.stringify({
        explanation: "Starting",
        plan: [
          { step: "Read code", status: "completed" },
          { step: "Write fix", status: "in_progress" },
          { step: "Test", status: "pending" },
        ],
      }),
    ),
    {
      explanation: "Starting",
      plan: [
        { step: "Read code", status: "completed" },
        { step: "Write fix", status: "inProgress" },
        { step: "Test", status: "pending" },
      ],
    },
  );
});

test("the explanation is optional", () => {
  assert.deepEqual(parsePlanArgs('{"plan":[]}'), { explanation: null, plan: [] });
  assert.deepEqual(parsePlanArgs('{"explanation":null,"plan":[{"step":"x","status":"inProgress"}]}'), {
    explanation: null,
    plan: [{ step: "x", status: "inProgress" }],
  });
});

test("bad update_plan arguments raise ToolArgumentError", () => {
  for (const json of ["nope", "{}", '{"plan":[{"step":"a","status":"done"}]}', '{"plan":[{"status":"pending"}]}']) {
    assert.throws(() => parsePlanArgs(json), ToolArgumentError, json);
  }
});
