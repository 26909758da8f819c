/**
 * Structured output for generative mode: a request whose `text.format` is `{type: "json_schema", schema}`
 * is answered with a JSON document valid for that schema, as a real model honouring structured output
 * would. Strings are built from the last user message (the part after a `User prompt:` line when there is
 * one, as in Codex's title requests), so a title schema gets a title made from the prompt.
 */

/** The schema of a `text.format: {type: "json_schema"}` request, or null when the request asks for none. */
export function requestedJsonSchema(body: { [field: string]: unknown }): Record<string, unknown> | null {
  const text = body.text;
  if (!isRecord(text) || !isRecord(text.format)) return null;
  const format = text.format;
  if (format.type !== "json_schema") return null;
  return isRecord(format.schema) ? format.schema : {};
}

/** Deepest nesting followed; deeper schemas get `null` there (a simulator, not a validator). */
const MAX_DEPTH = 16;

/** A value valid for `schema` (the subset of JSON Schema structured output allows), strings from `prompt`. */
export function answerForSchema(schema: Record<string, unknown>, prompt: string): unknown {
  return valueFor(schema, schema, titleWords(prompt), 0);
}

function valueFor(schema: unknown, root: Record<string, unknown>, words: string[], depth: number): unknown {
  if (!isRecord(schema) || depth > MAX_DEPTH) return null;
  if (typeof schema.$ref === "string") return valueFor(resolveRef(root, schema.$ref), root, words, depth + 1);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const k of ["anyOf", "oneOf", "allOf"] as const) {
    const options = schema[k];
    if (Array.isArray(options) && options.length > 0) return valueFor(options[0], root, words, depth + 1);
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== "null") ?? schema.type[0]) : schema.type;
  switch (type) {
    case "object":
      return objectFor(schema, root, words, depth);
    case "array": {
      const n = typeof schema.minItems === "number" && schema.minItems > 0 ? Math.min(schema.minItems, 100) : 1;
      return Array.from({ length: n }, () => valueFor(schema.items, root, words, depth + 1));
    }
    case "string":
      return stringFor(schema, words);
    case "integer":
    case "number":
      return numberFor(schema, type === "integer");
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return isRecord(schema.properties) ? objectFor(schema, root, words, depth) : stringFor(schema, words);
  }
}

function objectFor(schema: Record<string, unknown>, root: Record<string, unknown>, words: string[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = isRecord(schema.properties) ? schema.properties : {};
  for (const [name, sub] of Object.entries(properties)) out[name] = valueFor(sub, root, words, depth + 1);
  return out;
}

/** The prompt's first words, capitalised, cut at a word boundary to fit `maxLength`, padded to `minLength`. */
function stringFor(schema: Record<string, unknown>, words: string[]): string {
  const max = typeof schema.maxLength === "number" && schema.maxLength >= 0 ? schema.maxLength : 60;
  const min = typeof schema.minLength === "number" && schema.minLength > 0 ? schema.minLength : 0;
  let s = "";
  for (const w of words.length > 0 ? words : ["Untitled"]) {
    const next = s === "" ? w : `${s} ${w}`;
    if (next.length > max) break;
    s = next;
  }
  if (s === "" && max > 0) s = (words[0] ?? "Untitled").slice(0, max);
  if (s.length > 0) s = s[0]!.toUpperCase() + s.slice(1);
  return s.length >= min ? s : s.padEnd(min, "x");
}

function numberFor(schema: Record<string, unknown>, integer: boolean): number {
  const min = typeof schema.minimum === "number" ? schema.minimum : typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum + 1 : 0;
  const max = typeof schema.maximum === "number" ? schema.maximum : typeof schema.exclusiveMaximum === "number" ? schema.exclusiveMaximum - 1 : Infinity;
  const v = Math.min(Math.max(0, min), max);
  return integer ? Math.ceil(v) : v;
}

/** Local `#/…` references only (`$defs`, `definitions`). */
function resolveRef(root: Record<string, unknown>, ref: string): unknown {
  if (!ref.startsWith("#")) return null;
  let at: unknown = root;
  for (const part of ref.slice(1).split("/").filter((p) => p !== "")) {
    if (!isRecord(at)) return null;
    at = at[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return at;
}

/** Up to five words of the prompt (the text after a last `User prompt:` line, if any), without punctuation. */
function titleWords(prompt: string): string[] {
  const marker = prompt.lastIndexOf("User prompt:");
  const text = marker >= 0 ? prompt.slice(marker + "User prompt:".length) : prompt;
  return text
    .split(/\s+/)
    .map((w) => w.replace(/^["'`([{]+|["'`)\]}.,;:!?]+$/g, ""))
    .filter((w) => w !== "")
    .slice(0, 5);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
