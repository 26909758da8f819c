import { InvalidCursorError } from "./store.ts";

/**
 * Cursors are base64url JSON. They name the listing they belong to (`s`), the anchor position and
 * whether the anchor itself is included (`a`, set on backwards cursors). The sort direction is not part
 * of the cursor: the same anchor serves both ways.
 */

/** Position in a thread listing: sort value and id of the anchor thread. */
export interface ThreadCursor {
  sortKey: "created_at" | "updated_at";
  value: number;
  id: string;
  includeAnchor: boolean;
}

/** Position in a turn or item listing: the anchor's ordinal. */
export interface OrdinalCursor {
  scope: "turns" | "items";
  ordinal: number;
  includeAnchor: boolean;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeThreadCursor(c: ThreadCursor): string {
  return encode({ s: "threads", k: c.sortKey, v: c.value, id: c.id, ...(c.includeAnchor ? { a: 1 } : {}) });
}

export function decodeThreadCursor(cursor: string, sortKey: ThreadCursor["sortKey"]): ThreadCursor {
  const o = decode(cursor);
  if (o.s !== "threads" || o.k !== sortKey || !Number.isSafeInteger(o.v) || typeof o.id !== "string") {
    throw new InvalidCursorError(cursor);
  }
  return { sortKey, value: o.v as number, id: o.id, includeAnchor: anchorFlag(o, cursor) };
}

export function encodeOrdinalCursor(c: OrdinalCursor): string {
  return encode({ s: c.scope, o: c.ordinal, ...(c.includeAnchor ? { a: 1 } : {}) });
}

export function decodeOrdinalCursor(cursor: string, scope: OrdinalCursor["scope"]): OrdinalCursor {
  const o = decode(cursor);
  if (o.s !== scope || !Number.isSafeInteger(o.o)) throw new InvalidCursorError(cursor);
  return { scope, ordinal: o.o as number, includeAnchor: anchorFlag(o, cursor) };
}

function encode(payload: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

function decode(cursor: string): Record<string, unknown> {
  if (!BASE64URL.test(cursor)) throw new InvalidCursorError(cursor);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError(cursor);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidCursorError(cursor);
  return parsed as Record<string, unknown>;
}

function anchorFlag(o: Record<string, unknown>, cursor: string): boolean {
  if (o.a === undefined) return false;
  if (o.a === 1) return true;
  throw new InvalidCursorError(cursor);
}
