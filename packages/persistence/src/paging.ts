import type { Page } from "./store.ts";

/** Keyset comparison continuing past (or, for backwards cursors, from) the anchor. */
export function keysetOperator(desc: boolean, includeAnchor: boolean): "<" | "<=" | ">" | ">=" {
  if (desc) return includeAnchor ? "<=" : "<";
  return includeAnchor ? ">=" : ">";
}

/** At least one row; a non-finite limit means "all". */
export function pageSize(limit: number): number {
  if (!Number.isFinite(limit)) return Number.MAX_SAFE_INTEGER - 1;
  return Math.max(1, Math.floor(limit));
}

/** `rows` were fetched with `limit + 1` so that a further page shows without another query. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
  cursorAt: (r: R, includeAnchor: boolean) => string,
): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const first = page[0];
  const last = page.at(-1);
  return {
    data: page.map(map),
    nextCursor: more && last !== undefined ? cursorAt(last, false) : null,
    backwardsCursor: first !== undefined ? cursorAt(first, true) : null,
  };
}
