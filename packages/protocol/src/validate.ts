import type { z } from "zod";
import { InvalidParamsError, InvalidRequestError, MethodNotFoundError } from "./errors.ts";
import { METHODS, isKnownMethod, type MethodName, type MethodSpec } from "./methods.ts";

/** Longest text input accepted by `turn/start` and `turn/steer`, in characters (as Codex). */
export const DEFAULT_MAX_INPUT_CHARS = 1_048_576;

export interface ValidateOptions {
  experimentalApi: boolean;
  maxInputChars?: number;
}

/** Looks a method up in the table or throws -32601. */
export function methodSpec(method: string): { name: MethodName; spec: MethodSpec } {
  if (!isKnownMethod(method)) throw new MethodNotFoundError(method);
  return { name: method, spec: METHODS[method] };
}

/**
 * Validates `params` of a client request against the method table: presence, shape (-32602 naming the
 * field), experimental gating (-32600, as Codex) and the input length limit (-32602 input_too_large).
 * Returns the parsed params.
 */
export function validateParams(method: string, params: unknown, hasParams: boolean, opts: ValidateOptions): { name: MethodName; params: unknown } {
  const { name, spec } = methodSpec(method);
  if (spec.experimental && !opts.experimentalApi) {
    throw new InvalidRequestError(`${name} requires experimentalApi capability`);
  }
  if (!hasParams) {
    if (spec.paramsRequired) throw new InvalidParamsError("Invalid params: missing field `params`");
    return { name, params: undefined };
  }
  if (!opts.experimentalApi && spec.experimentalFields && typeof params === "object" && params !== null) {
    for (const f of spec.experimentalFields) {
      const v = (params as Record<string, unknown>)[f];
      if (v !== undefined && v !== null) throw new InvalidRequestError(`${name}.${f} requires experimentalApi capability`);
    }
  }
  const parsed = spec.params.safeParse(params);
  if (!parsed.success) throw new InvalidParamsError(describeIssue(parsed.error));
  if (spec.checksInput) checkInputLength(parsed.data, opts.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS);
  if (!opts.experimentalApi && typeof parsed.data === "object" && parsed.data !== null) {
    checkGranular(name, parsed.data as Record<string, unknown>);
  }
  return { name, params: parsed.data };
}

function checkGranular(name: string, p: Record<string, unknown>): void {
  const ap = p.approvalPolicy;
  if (typeof ap === "object" && ap !== null && "granular" in ap) {
    throw new InvalidRequestError("askForApproval.granular requires experimentalApi capability");
  }
  void name;
}

function checkInputLength(params: unknown, max: number): void {
  const input = (params as { input?: Array<{ type: string; text?: string }> }).input ?? [];
  let actual = 0;
  for (const part of input) if (part.type === "text" && typeof part.text === "string") actual += part.text.length;
  if (actual > max) {
    throw new InvalidParamsError(`Input exceeds the maximum length of ${max} characters.`, {
      input_error_code: "input_too_large",
      max_chars: max,
      actual_chars: actual,
    });
  }
  for (const part of input as Array<{ type: string; url?: string }>) {
    if (part.type === "image" && typeof part.url === "string" && /^https?:/i.test(part.url)) {
      throw new InvalidRequestError("remote image URLs are not supported; use an inline data URL instead");
    }
  }
}

/** One line naming the first offending field, e.g. "Invalid params: missing field `threadId`". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid params";
  const path = issue.path.map(String).join(".");
  if (issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined) {
    return `Invalid params: missing field \`${path}\``;
  }
  return path ? `Invalid params: \`${path}\`: ${issue.message}` : `Invalid params: ${issue.message}`;
}
