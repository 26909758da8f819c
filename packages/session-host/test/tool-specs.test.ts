import { test } from "node:test";
import assert from "node:assert/strict";
import { builtinToolSpecs, dynamicToolSpecs, resolveDynamicToolName } from "../src/tools/tool-specs.ts";

interface Spec {
  type: string;
  name: string;
  description: string;
  strict: boolean;
  parameters: { type: string; properties: Record<string, { type?: string; enum?: string[]; items?: unknown }>; required?: string[] };
}

test("the built-in tools are shell, apply_patch and update_plan function tools", () => {
  const specs = builtinToolSpecs() as Spec[];
  assert.deepEqual(
    specs.map((s) => s.name),
    ["shell", "apply_patch", "update_plan"],
  );
  for (const s of specs) {
    assert.equal(s.type, "function");
    assert.equal(s.strict, false);
    assert.equal(s.parameters.type, "object");
    assert.ok(s.description.length > 0);
  }
  const [shell, applyPatch, plan] = specs as [Spec, Spec, Spec];
  assert.deepEqual(shell.parameters.properties["command"], { type: "array", items: { type: "string" }, description: "The command to execute" });
  assert.deepEqual(shell.parameters.properties["sandbox_permissions"]?.enum, ["use_default", "require_escalated"]);
  assert.deepEqual(Object.keys(shell.parameters.properties).sort(), ["command", "justification", "sandbox_permissions", "timeout_ms", "workdir"]);
  assert.deepEqual(shell.parameters.required, ["command"]);
  assert.deepEqual(Object.keys(applyPatch.parameters.properties), ["input"]);
  assert.match(applyPatch.description, /\*\*\* Begin Patch/);
  assert.match(applyPatch.description, /\*\*\* Update File:/);
  assert.deepEqual(plan.parameters.required, ["plan"]);
  assert.deepEqual(
    (plan.parameters.properties["plan"]?.items as { properties: { status: { enum: string[] } } }).properties.status.enum,
    ["pending", "in_progress", "completed"],
  );
});

const dynamicTools = [
  { type: "function", name: "lookup_ticket", description: "Find a ticket", inputSchema: { type: "object", properties: { id: { type: "string" } } } },
  { name: "no_type", description: "Type omitted", inputSchema: null },
  {
    type: "namespace",
    name: "crm",
    description: "CRM tools.",
    tools: [
      { name: "find", description: "Find a customer", inputSchema: { type: "object", properties: {} }, deferLoading: true },
      { name: "update", description: "Update a customer", inputSchema: { type: "object", properties: {} } },
    ],
  },
  { type: "bogus" },
];

test("dynamic tools become function tools and namespaced ones are prefixed", () => {
  assert.deepEqual(dynamicToolSpecs(dynamicTools), [
    {
      type: "function",
      name: "lookup_ticket",
      description: "Find a ticket",
      parameters: { type: "object", properties: { id: { type: "string" } } },
      strict: false,
    },
    { type: "function", name: "no_type", description: "Type omitted", parameters: { type: "object", properties: {} }, strict: false },
    { type: "function", name: "crm__find", description: "CRM tools.\n\nFind a customer", parameters: { type: "object", properties: {} }, strict: false },
    { type: "function", name: "crm__update", description: "CRM tools.\n\nUpdate a customer", parameters: { type: "object", properties: {} }, strict: false },
  ]);
});

test("a called function name resolves back to its dynamic tool", () => {
  assert.deepEqual(resolveDynamicToolName("lookup_ticket", dynamicTools), { namespace: null, tool: "lookup_ticket" });
  assert.deepEqual(resolveDynamicToolName("crm__update", dynamicTools), { namespace: "crm", tool: "update" });
  assert.equal(resolveDynamicToolName("crm__missing", dynamicTools), null);
  assert.equal(resolveDynamicToolName("shell", dynamicTools), null);
  assert.equal(resolveDynamicToolName("crm", dynamicTools), null);
});
