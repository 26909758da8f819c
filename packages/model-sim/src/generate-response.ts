import type { SimRequestBody } from "./model-sim.ts";
import type { SimResponse } from "./sim-response.ts";
import { answerForSchema, requestedJsonSchema } from "./json-schema-answer.ts";

/** Default pace: as fast as possible. */
export const DEFAULT_TOKENS_PER_SECOND = 0;
export const DEFAULT_GENERATIVE_TTFT_MS = 0;
export const DEFAULT_TOKENS_PER_RESPONSE = 40;
export const DEFAULT_TOOL_CALL_PROBABILITY = 0;

/** The tool call generative mode makes; it matches Codex's `shell` tool. */
export const GENERATED_TOOL_NAME = "shell";
export const GENERATED_TOOL_ARGUMENTS = { command: ["bash", "-lc", "echo hello"] };

/** How unscripted requests are answered. */
export interface GenerativeOptions {
  /** Output deltas (one word each) per second; 0 or `Infinity` means as fast as possible. Default 0. */
  tokensPerSecond?: number;
  /** Delay before the first byte of each response, in ms. Default 0. */
  ttftMs?: number;
  /** Word deltas per text response. Default 40. */
  tokensPerResponse?: number;
  /**
   * Chance, 0..1, that a response is a `shell` function call instead of text. Never applies when the last
   * input item is a `function_call_output` (so every turn ends with text), nor when the request lists
   * tools and none is a function named `shell`. Default 0.
   */
  toolCallProbability?: number;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
}

const WORDS = (
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et " +
  "dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea " +
  "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur " +
  "excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum"
).split(" ");

/** A user message starting with this asks generative mode to run the rest as an escalated shell command. */
export const RUN_COMMAND_PREFIX = "$ ";

/**
 * Builds an unscripted response for `body`. A last user message `$ <command>` (a demo convenience)
 * becomes a `shell` call of that command asking to run outside the sandbox, so an approval prompt
 * can be tried from any client. A request for structured output (`text.format.type: "json_schema"`) is
 * answered with a JSON document valid for its schema, strings taken from the last user message.
 */
export function generateResponse(body: SimRequestBody, options: GenerativeOptions = {}): SimResponse {
  const random = options.random ?? Math.random;
  const tps = options.tokensPerSecond ?? DEFAULT_TOKENS_PER_SECOND;
  const pace: Pick<SimResponse, "ttftMs" | "chunkDelayMs"> = {
    ttftMs: options.ttftMs ?? DEFAULT_GENERATIVE_TTFT_MS,
    chunkDelayMs: tps > 0 && Number.isFinite(tps) ? 1000 / tps : 0,
  };
  const asked = requestedCommand(body);
  if (asked !== null && mayCallTool(body)) {
    const args = { command: ["bash", "-lc", asked], sandbox_permissions: "require_escalated", justification: "You asked to run this command; it needs to run outside the sandbox." };
    return { ...pace, output: [{ type: "function_call", name: GENERATED_TOOL_NAME, arguments: args }] };
  }
  const schema = requestedJsonSchema(body);
  if (schema !== null) {
    const json = JSON.stringify(answerForSchema(schema, lastUserText(body) ?? ""));
    return { ...pace, output: [{ type: "message", text: json.match(/\s*\S+/g) ?? [json] }] };
  }
  const p = options.toolCallProbability ?? DEFAULT_TOOL_CALL_PROBABILITY;
  if (p > 0 && mayCallTool(body) && random() < p) {
    return { ...pace, output: [{ type: "function_call", name: GENERATED_TOOL_NAME, arguments: GENERATED_TOOL_ARGUMENTS }] };
  }
  const n = Math.max(1, Math.floor(options.tokensPerResponse ?? DEFAULT_TOKENS_PER_RESPONSE));
  const chunks = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const w = WORDS[Math.floor(random() * WORDS.length) % WORDS.length] ?? "lorem";
    chunks[i] = i === 0 ? w[0]!.toUpperCase() + w.slice(1) : i === n - 1 ? ` ${w}.` : ` ${w}`;
  }
  return { ...pace, output: [{ type: "message", text: chunks }] };
}

/** The text of the last input item when it is a user message (or the input when it is a string), else null. */
function lastUserText(body: SimRequestBody): string | null {
  const input = body.input;
  if (typeof input === "string") return input;
  if (!Array.isArray(input) || input.length === 0) return null;
  const last: unknown = input[input.length - 1];
  if (!isRecord(last) || last.role !== "user") return null;
  if (typeof last.content === "string") return last.content;
  if (!Array.isArray(last.content)) return null;
  return last.content.map((c: unknown) => (isRecord(c) && typeof c.text === "string" ? c.text : "")).join("");
}

/** The command of a last user message `$ <command>`, else null. */
function requestedCommand(body: SimRequestBody): string | null {
  if (typeof body.input === "string") return null;
  const text = lastUserText(body)?.trim() ?? null;
  if (text === null) return null;
  return text.startsWith(RUN_COMMAND_PREFIX.trim()) && text.length > 1 ? text.slice(1).trim() || null : null;
}

function mayCallTool(body: SimRequestBody): boolean {
  const input = body.input;
  if (Array.isArray(input) && input.length > 0) {
    const last: unknown = input[input.length - 1];
    if (isRecord(last) && last.type === "function_call_output") return false;
  }
  if (Array.isArray(body.tools)) {
    return body.tools.some((t) => isRecord(t) && t.type === "function" && t.name === GENERATED_TOOL_NAME);
  }
  return true;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
