import { deepFreeze } from "../model/item-json.ts";

/** A Responses API function tool definition. */
export interface FunctionToolSpec {
  type: "function";
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  strict: false;
}

/** Separator between a dynamic tool's namespace and its name in the function name sent to the model. */
export const NAMESPACE_SEPARATOR = "__";

const SHELL_DESCRIPTION = [
  "Runs a shell command and returns its output.",
  '- The arguments to `shell` will be passed to execvp(). Most terminal commands should be prefixed with ["bash", "-lc"].',
  "- Always set the `workdir` param when using the shell function. Do not use `cd` unless absolutely necessary.",
].join("\n");

const APPLY_PATCH_DESCRIPTION = `Use the \`apply_patch\` tool to edit files. Pass the whole patch as \`input\`.
The patch is a stripped-down, file-oriented diff format:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Each file section starts with one of three headers:
*** Add File: <path> - create a new file; every following line is a line of the new file, prefixed with "+".
*** Delete File: <path> - remove an existing file; nothing follows.
*** Update File: <path> - patch an existing file in place, optionally followed by "*** Move to: <new path>" to rename it.

An update consists of one or more hunks. Each hunk starts with "@@", optionally followed by a line that
locates the change (such as a class or function header, "@@ def handler():"). Then come the lines of the
hunk, each prefixed with " " (unchanged context), "-" (removed) or "+" (added). Show about three lines of
context above and below each change and do not repeat context shared with the previous hunk. If the
context is not unique, add an "@@" line naming the enclosing class or function. Add "*** End of File"
after a hunk that must match at the end of the file.

Example:
*** Begin Patch
*** Add File: hello.txt
+Hello world
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
-print("Hi")
+print("Hello, world!")
*** Delete File: obsolete.txt
*** End Patch

File paths are relative to the working directory (absolute paths also work). New lines must be prefixed
with "+" even when adding a file.`;

const UPDATE_PLAN_DESCRIPTION = [
  "Updates the task plan.",
  "Provide an optional explanation and a list of plan items, each with a step and status.",
  "At most one step can be in_progress at a time.",
].join("\n");

/**
 * The built-in tools offered to the model: `shell`, `apply_patch` and `update_plan`, as Codex defines
 * them, less those the thread's config disabled (see `disabledTools`).
 */
export function builtinToolSpecs(disabled: readonly string[] = []): FunctionToolSpec[] {
  return BUILTIN_TOOL_SPECS.filter((t) => !disabled.includes(t.name));
}

/**
 * Built once and frozen: every turn offers the same objects, so a turn's admission measures their size
 * once (`itemJson` remembers it per object) instead of serialising them again.
 */
const BUILTIN_TOOL_SPECS: readonly FunctionToolSpec[] = deepFreeze(allBuiltinToolSpecs());


function allBuiltinToolSpecs(): FunctionToolSpec[] {
  return [
    {
      type: "function",
      name: "shell",
      description: SHELL_DESCRIPTION,
      strict: false,
      parameters: {
        type: "object",
        properties: {
          command: { type: "array", items: { type: "string" }, description: "The command to execute" },
          workdir: { type: "string", description: "The working directory to execute the command in" },
          timeout_ms: { type: "number", description: "The timeout for the command in milliseconds" },
          sandbox_permissions: {
            type: "string",
            enum: ["use_default", "require_escalated"],
            description:
              'Sandbox permissions for the command. Set to "require_escalated" to request running without sandbox restrictions; defaults to "use_default".',
          },
          justification: {
            type: "string",
            description:
              'Only set if sandbox_permissions is "require_escalated". 1-sentence explanation of why we want to run this command.',
          },
        },
        required: ["command"],
        additionalProperties: false,
      },
    },
    {
      type: "function",
      name: "apply_patch",
      description: APPLY_PATCH_DESCRIPTION,
      strict: false,
      parameters: {
        type: "object",
        properties: {
          input: { type: "string", description: "The entire contents of the apply_patch command" },
        },
        required: ["input"],
        additionalProperties: false,
      },
    },
    {
      type: "function",
      name: "update_plan",
      description: UPDATE_PLAN_DESCRIPTION,
      strict: false,
      parameters: {
        type: "object",
        properties: {
          explanation: { type: "string" },
          plan: {
            type: "array",
            description: "The list of steps",
            items: {
              type: "object",
              properties: {
                step: { type: "string" },
                status: { type: "string", enum: ["pending", "in_progress", "completed"], description: "One of: pending, in_progress, completed" },
              },
              required: ["step", "status"],
              additionalProperties: false,
            },
          },
        },
        required: ["plan"],
        additionalProperties: false,
      },
    },
  ];
}

interface DynamicFunction {
  name: string;
  description: string;
  inputSchema: unknown;
}

interface DynamicNamespace {
  name: string;
  description: string;
  tools: DynamicFunction[];
}

/**
 * Converts `thread/start.dynamicTools` (`DynamicToolSpec[]`) into function tools. A namespaced tool is
 * exposed as `<namespace>__<name>` and its description is prefixed with the namespace's. Entries that
 * are not well-formed are skipped; a non-object input schema becomes an empty object schema.
 */
export function dynamicToolSpecs(dynamicTools: unknown[]): FunctionToolSpec[] {
  const out: FunctionToolSpec[] = [];
  for (const spec of dynamicTools) {
    const ns = asNamespace(spec);
    if (ns) {
      for (const tool of ns.tools) {
        const description = ns.description ? `${ns.description}\n\n${tool.description}`.trim() : tool.description;
        out.push(functionTool(`${ns.name}${NAMESPACE_SEPARATOR}${tool.name}`, description, tool.inputSchema));
      }
      continue;
    }
    const fn = asFunction(spec);
    if (fn) out.push(functionTool(fn.name, fn.description, fn.inputSchema));
  }
  return out;
}

/**
 * Maps a function name the model called back to the dynamic tool it stands for: a top-level tool
 * (`namespace: null`) or `<namespace>__<tool>`. Top-level names win over namespaced ones. Null when
 * the name is not a dynamic tool.
 */
export function resolveDynamicToolName(name: string, dynamicTools: unknown[]): { namespace: string | null; tool: string } | null {
  for (const spec of dynamicTools) {
    if (asNamespace(spec)) continue;
    const fn = asFunction(spec);
    if (fn?.name === name) return { namespace: null, tool: name };
  }
  for (const spec of dynamicTools) {
    const ns = asNamespace(spec);
    if (!ns || !name.startsWith(ns.name + NAMESPACE_SEPARATOR)) continue;
    const toolName = name.slice(ns.name.length + NAMESPACE_SEPARATOR.length);
    if (ns.tools.some((t) => t.name === toolName)) return { namespace: ns.name, tool: toolName };
  }
  return null;
}

function functionTool(name: string, description: string, inputSchema: unknown): FunctionToolSpec {
  const parameters = isRecord(inputSchema) ? inputSchema : { type: "object", properties: {} };
  return { type: "function", name, description, parameters, strict: false };
}

function asNamespace(spec: unknown): DynamicNamespace | null {
  if (!isRecord(spec) || spec["type"] !== "namespace" || typeof spec["name"] !== "string" || !Array.isArray(spec["tools"])) return null;
  const tools = spec["tools"].map(asFunction).filter((t): t is DynamicFunction => t !== null);
  return { name: spec["name"], description: stringOr(spec["description"]), tools };
}

function asFunction(spec: unknown): DynamicFunction | null {
  if (!isRecord(spec) || typeof spec["name"] !== "string") return null;
  if (spec["type"] !== undefined && spec["type"] !== "function") return null;
  return { name: spec["name"], description: stringOr(spec["description"]), inputSchema: spec["inputSchema"] };
}

function stringOr(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
