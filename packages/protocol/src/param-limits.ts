import { fieldTooLarge, type TenantLimits } from "./limits.ts";

type Obj = Record<string, unknown>;

/** Methods whose `limit` is a page size, clamped to `maxPageSize`. */
const PAGED = new Set(["thread/list", "thread/loaded/list", "thread/turns/list", "thread/items/list", "model/list"]);
/** Listings where an absent `limit` means "everything": it becomes `maxPageSize` (with a `nextCursor`). */
const UNBOUNDED_WHEN_ABSENT = new Set(["thread/loaded/list"]);
const INSTRUCTIONS = ["baseInstructions", "developerInstructions"] as const;
const IDS: Readonly<Record<string, readonly string[]>> = {
  "thread/fork": ["lastTurnId"],
  "thread/items/list": ["turnId"],
  "thread/readState/update": ["expectedRevision"],
  "turn/start": ["clientUserMessageId"],
  "turn/steer": ["expectedTurnId", "clientUserMessageId"],
  "turn/interrupt": ["turnId"],
};

/**
 * Applies a tenant's size limits to validated params: -32602 naming the field and the limit when a
 * string or list is too large; page sizes above the maximum are clamped (the params are changed in
 * place). Runs after the schema, so shapes are known.
 */
export function applyParamLimits(method: string, params: unknown, limits: TenantLimits): void {
  if (typeof params !== "object" || params === null) return;
  const p = params as Obj;
  if (method === "thread/start" || method === "thread/resume" || method === "thread/fork") {
    for (const f of INSTRUCTIONS) maxChars(p, f, limits.maxInstructionsChars);
  }
  if (method === "thread/name/set") maxChars(p, "name", limits.maxThreadNameChars);
  for (const f of IDS[method] ?? []) maxChars(p, f, limits.maxIdChars);
  if (PAGED.has(method)) {
    const cursor = p.cursor;
    if (typeof cursor === "string") maxChars(p, "cursor", limits.maxCursorChars);
    else if (typeof cursor === "object" && cursor !== null) maxChars(cursor as Obj, "itemId", limits.maxIdChars, "cursor.itemId");
    if (typeof p.limit === "number") p.limit = Math.min(p.limit, limits.maxPageSize);
    else if (UNBOUNDED_WHEN_ABSENT.has(method)) p.limit = limits.maxPageSize;
  }
  if ((method === "turn/start" || method === "turn/steer") && Array.isArray(p.input)) checkInput(p.input as unknown[], limits);
}

function maxChars(o: Obj, field: string, limit: number, name = field): void {
  const v = o[field];
  if (typeof v === "string" && v.length > limit) throw fieldTooLarge(name, limit, v.length, "characters");
}

function checkInput(input: unknown[], limits: TenantLimits): void {
  if (input.length > limits.maxInputItems) throw fieldTooLarge("input", limits.maxInputItems, input.length, "items");
  let images = 0;
  let bytes = 0;
  for (const item of input) {
    if (typeof item !== "object" || item === null) continue;
    const type = (item as Obj).type;
    if (type === "image" || type === "localImage") images++;
    for (const [k, v] of Object.entries(item as Obj)) if (k !== "type" && typeof v === "string") bytes += Buffer.byteLength(v, "utf8");
  }
  if (images > limits.maxInputImages) throw fieldTooLarge("input", limits.maxInputImages, images, "images");
  if (bytes > limits.maxInputBytes) throw fieldTooLarge("input", limits.maxInputBytes, bytes, "bytes");
}
