/**
 * JSON of the objects a model request is made of, remembered per object: a thread's history and the
 * built-in tool specs are the same objects round after round, so each request serialises only what was
 * added since the last one instead of the whole history again (a long thread's history is tens of
 * kilobytes). The objects must not change once serialised: history entries are frozen as they are
 * appended, tool specs are frozen when built.
 */
const json = new WeakMap<object, string>();
const bytes = new WeakMap<object, number>();

/** `JSON.stringify(v)`, remembered for objects. */
export function itemJson(v: unknown): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v) ?? "null";
  let s = json.get(v);
  if (s === undefined) {
    s = JSON.stringify(v) ?? "null";
    json.set(v, s);
  }
  return s;
}

/** UTF-8 size of {@link itemJson}, remembered for objects. */
export function itemJsonBytes(v: unknown): number {
  if (typeof v !== "object" || v === null) return Buffer.byteLength(itemJson(v));
  let n = bytes.get(v);
  if (n === undefined) {
    n = Buffer.byteLength(itemJson(v));
    bytes.set(v, n);
  }
  return n;
}

/**
 * The JSON body of a Responses API request: `params` with its `input` items and `tools` serialised
 * through {@link itemJson}. The same document `JSON.stringify(params)` gives, field order aside.
 */
export function requestBodyJson(params: { input?: unknown; tools?: unknown } & Record<string, unknown>): string {
  const { input, tools, ...rest } = params;
  const parts: string[] = [];
  const head = JSON.stringify(rest);
  if (head.length > 2) parts.push(head.slice(1, -1));
  if (Array.isArray(input)) parts.push(`"input":[${input.map(itemJson).join(",")}]`);
  else if (input !== undefined) parts.push(`"input":${JSON.stringify(input)}`);
  if (Array.isArray(tools)) parts.push(`"tools":[${tools.map(itemJson).join(",")}]`);
  else if (tools !== undefined) parts.push(`"tools":${JSON.stringify(tools)}`);
  return `{${parts.join(",")}}`;
}

/** Freezes `v` and everything it holds, so that its remembered JSON stays true. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const inner of Object.values(v)) deepFreeze(inner);
  }
  return v;
}
