import type { SimFailure, SimOutput, SimResponse, SimUsage } from "./sim-response.ts";

/** A script that does not describe valid {@link SimResponse}s; `problems` lists every issue found. */
export class SimScriptError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid sim script: ${problems.join("; ")}`);
    this.name = "SimScriptError";
    this.problems = problems;
  }
}

const FAILURE_KINDS = new Set(["error", "failed", "incomplete", "http", "cut", "hang"]);

/**
 * Checks untrusted script JSON (the control API, or in-process callers) and returns it as typed responses.
 * Throws {@link SimScriptError} listing every problem.
 */
export function parseSimResponses(value: unknown): SimResponse[] {
  const problems: string[] = [];
  if (!Array.isArray(value)) throw new SimScriptError(["responses: expected an array"]);
  const out = value.map((r, i) => parseResponse(r, `responses[${i}]`, problems));
  if (problems.length > 0) throw new SimScriptError(problems);
  return out;
}

function parseResponse(value: unknown, at: string, problems: string[]): SimResponse {
  if (!isObject(value)) {
    problems.push(`${at}: expected an object`);
    return { output: [] };
  }
  const r: SimResponse = { output: [] };
  if (!Array.isArray(value.output)) problems.push(`${at}.output: expected an array`);
  else r.output = value.output.map((o, i) => parseOutput(o, `${at}.output[${i}]`, problems));
  const ttftMs = optionalNumber(value.ttftMs, `${at}.ttftMs`, problems);
  if (ttftMs !== undefined) r.ttftMs = ttftMs;
  const chunkDelayMs = optionalNumber(value.chunkDelayMs, `${at}.chunkDelayMs`, problems);
  if (chunkDelayMs !== undefined) r.chunkDelayMs = chunkDelayMs;
  if (value.usage !== undefined) r.usage = parseUsage(value.usage, `${at}.usage`, problems);
  if (value.fail !== undefined) r.fail = parseFailure(value.fail, `${at}.fail`, problems);
  return r;
}

function parseOutput(value: unknown, at: string, problems: string[]): SimOutput {
  const fallback: SimOutput = { type: "message", text: "" };
  if (!isObject(value)) {
    problems.push(`${at}: expected an object`);
    return fallback;
  }
  const id = optionalString(value.id, `${at}.id`, problems);
  const withId = <T extends SimOutput>(o: T): T => (id === undefined ? o : { ...o, id });
  switch (value.type) {
    case "message":
      if (!isText(value.text)) problems.push(`${at}.text: expected a string or an array of strings`);
      return withId({ type: "message", text: isText(value.text) ? value.text : "" });
    case "reasoning": {
      const ok = Array.isArray(value.summary) && value.summary.every(isText);
      if (!ok) problems.push(`${at}.summary: expected an array of strings or string arrays`);
      return withId({ type: "reasoning", summary: ok ? (value.summary as Array<string | string[]>) : [] });
    }
    case "function_call": {
      if (typeof value.name !== "string" || value.name === "") problems.push(`${at}.name: expected a string`);
      if (value.arguments === undefined) problems.push(`${at}.arguments: required`);
      const callId = optionalString(value.callId, `${at}.callId`, problems);
      const call: SimOutput = { type: "function_call", name: String(value.name), arguments: value.arguments };
      return withId(callId === undefined ? call : { ...call, callId });
    }
    default:
      problems.push(`${at}.type: expected "message", "reasoning" or "function_call"`);
      return fallback;
  }
}

function parseUsage(value: unknown, at: string, problems: string[]): SimUsage {
  if (!isObject(value)) {
    problems.push(`${at}: expected an object`);
    return {};
  }
  const u: SimUsage = {};
  for (const k of ["inputTokens", "cachedTokens", "outputTokens", "reasoningTokens"] as const) {
    const n = optionalNumber(value[k], `${at}.${k}`, problems);
    if (n !== undefined) u[k] = n;
  }
  return u;
}

function parseFailure(value: unknown, at: string, problems: string[]): SimFailure {
  if (!isObject(value) || typeof value.kind !== "string" || !FAILURE_KINDS.has(value.kind)) {
    problems.push(`${at}.kind: expected one of error, failed, incomplete, http, cut, hang`);
    return { kind: "error" };
  }
  const f: SimFailure = { kind: value.kind as SimFailure["kind"] };
  const afterEvents = optionalNumber(value.afterEvents, `${at}.afterEvents`, problems);
  if (afterEvents !== undefined) f.afterEvents = Math.floor(afterEvents);
  const status = optionalNumber(value.status, `${at}.status`, problems);
  if (status !== undefined) {
    if (!Number.isInteger(status) || status < 400 || status > 599) problems.push(`${at}.status: expected 400-599`);
    f.status = status;
  }
  const retryAfterMs = optionalNumber(value.retryAfterMs, `${at}.retryAfterMs`, problems);
  if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  const message = optionalString(value.message, `${at}.message`, problems);
  if (message !== undefined) f.message = message;
  const code = optionalString(value.code, `${at}.code`, problems);
  if (code !== undefined) f.code = code;
  return f;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isText(v: unknown): v is string | string[] {
  return typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string"));
}

function optionalNumber(v: unknown, at: string, problems: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    problems.push(`${at}: expected a non-negative number`);
    return undefined;
  }
  return v;
}

function optionalString(v: unknown, at: string, problems: string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") {
    problems.push(`${at}: expected a string`);
    return undefined;
  }
  return v;
}
