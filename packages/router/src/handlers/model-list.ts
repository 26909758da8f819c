import { InvalidRequestError } from "@threadmesh/protocol";
import type { ModelEntry } from "../config.ts";

export interface ModelListParams {
  cursor?: string | null;
  limit?: number | null;
  includeHidden?: boolean | null;
}

export interface ModelListResponse {
  data: ModelEntry[];
  nextCursor: string | null;
}

const DECIMAL = /^\d{1,9}$/;

/** `model/list` over the configured catalogue. The cursor is the decimal index of the next entry, as in Codex. */
export function modelList(models: readonly ModelEntry[], params: ModelListParams | undefined): ModelListResponse {
  const visible = params?.includeHidden === true ? models : models.filter((m) => !m.hidden);
  const cursor = params?.cursor;
  let start = 0;
  if (cursor !== undefined && cursor !== null) {
    if (!DECIMAL.test(cursor)) throw new InvalidRequestError(`invalid cursor: ${cursor}`);
    start = Math.min(Number(cursor), visible.length);
  }
  const limit = Math.max(1, params?.limit ?? visible.length);
  const end = Math.min(start + limit, visible.length);
  return { data: visible.slice(start, end), nextCursor: end < visible.length ? String(end) : null };
}
