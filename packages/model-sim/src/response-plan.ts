import { randomBytes } from "node:crypto";
import type { SimRequestBody } from "./model-sim.ts";
import type { SimFailure, SimOutput, SimResponse } from "./sim-response.ts";

/** Function-call arguments are streamed in deltas of at most this many UTF-16 units, like the real API. */
const ARGUMENT_CHUNK_CHARS = 16;
/** Rough bytes-per-token ratio used to estimate input tokens from the request size. */
const BYTES_PER_TOKEN = 4;

export const DEFAULT_MODEL = "sim-model";

/** `response.usage` as it goes on the wire. */
export interface WireUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type PlannedItem =
  | { type: "message"; id: string; chunks: readonly string[] }
  | { type: "reasoning"; id: string; parts: ReadonlyArray<readonly string[]> }
  | { type: "function_call"; id: string; callId: string; name: string; chunks: readonly string[] };

/** A response resolved down to ids, deltas and numbers: everything needed to write it. */
export interface ResponsePlan {
  id: string;
  key: string;
  body: SimRequestBody;
  model: string;
  /** Unix seconds. */
  createdAt: number;
  items: readonly PlannedItem[];
  usage: WireUsage;
  ttftMs: number;
  chunkDelayMs: number;
  /** Reasoning items carry `encrypted_content` when the request asked for it, as Codex does. */
  includeEncryptedReasoning: boolean;
  fail: SimFailure | undefined;
}

export interface PlanContext {
  responseId: string;
  key: string;
  body: SimRequestBody;
  /** Raw request body size, in bytes. */
  bytes: number;
  /** Raw body size of the previous request with the same key, in bytes; 0 when there was none. */
  previousBytes: number;
}

/** Resolves `sim` for one request. */
export function planResponse(sim: SimResponse, ctx: PlanContext): ResponsePlan {
  const items = sim.output.map(planItem);
  let outputTokens = 0;
  let reasoningTokens = 0;
  for (const it of items) {
    if (it.type === "reasoning") for (const p of it.parts) reasoningTokens += p.length;
    else outputTokens += it.chunks.length;
  }
  const input = sim.usage?.inputTokens ?? Math.ceil(ctx.bytes / BYTES_PER_TOKEN);
  const cached = Math.min(input, sim.usage?.cachedTokens ?? Math.floor(ctx.previousBytes / BYTES_PER_TOKEN));
  const reasoning = sim.usage?.reasoningTokens ?? reasoningTokens;
  const output = sim.usage?.outputTokens ?? outputTokens + reasoningTokens;
  const include = ctx.body.include;
  return {
    id: ctx.responseId,
    key: ctx.key,
    body: ctx.body,
    model: typeof ctx.body.model === "string" && ctx.body.model !== "" ? ctx.body.model : DEFAULT_MODEL,
    createdAt: Math.floor(Date.now() / 1000),
    items,
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: cached, cache_write_tokens: 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: reasoning },
      total_tokens: input + output,
    },
    ttftMs: sim.ttftMs ?? 0,
    chunkDelayMs: sim.chunkDelayMs ?? 0,
    includeEncryptedReasoning: Array.isArray(include) && include.includes("reasoning.encrypted_content"),
    fail: sim.fail,
  };
}

function planItem(o: SimOutput): PlannedItem {
  switch (o.type) {
    case "message":
      return { type: "message", id: o.id ?? newId("msg"), chunks: toChunks(o.text) };
    case "reasoning":
      return { type: "reasoning", id: o.id ?? newId("rs"), parts: o.summary.map(toChunks) };
    case "function_call": {
      const args = typeof o.arguments === "string" ? o.arguments : (JSON.stringify(o.arguments) ?? "null");
      return {
        type: "function_call",
        id: o.id ?? newId("fc"),
        callId: o.callId ?? newId("call"),
        name: o.name,
        chunks: splitFixed(args, ARGUMENT_CHUNK_CHARS),
      };
    }
  }
}

/** Random per process, so ids from simulators in different processes do not collide. */
const ID_STEM = randomBytes(16).toString("hex");
let idCounter = 0;

/** Ids shaped like the real API's: a prefix and 48 hex digits. A counter keeps them cheap under load. */
export function newId(prefix: string): string {
  return `${prefix}_${ID_STEM}${(++idCounter).toString(16).padStart(16, "0")}`;
}

/** Explicit chunks are kept; a string becomes word deltas whose concatenation is the string. */
export function toChunks(text: string | readonly string[]): string[] {
  if (typeof text !== "string") return [...text];
  const words = text.match(/\s*\S+/g);
  if (!words) return text === "" ? [] : [text];
  const rest = text.slice(words.join("").length);
  if (rest !== "") words[words.length - 1] += rest;
  return words;
}

function splitFixed(s: string, size: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    let end = Math.min(i + size, s.length);
    // Keep surrogate pairs in one delta.
    if (end < s.length && isHighSurrogate(s.charCodeAt(end - 1))) end++;
    out.push(s.slice(i, end));
    i = end;
  }
  return out;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
