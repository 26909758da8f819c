import { InvalidCursorError, type ItemRecord, type ThreadStore, type TurnRecord } from "@threadmesh/persistence";
import { InvalidRequestError, type ThreadItem, type Turn } from "@threadmesh/protocol";
import { summaryItems, toWireTurn } from "./thread-view.ts";

/** Page size used when reading a whole thread, in rows. */
const FULL_READ_PAGE = 500;
/** `thread/turns/list` page size when the client names none. */
export const DEFAULT_TURNS_PAGE_LIMIT = 25;
/** `thread/items/list` page size when the client names none. */
export const DEFAULT_ITEMS_PAGE_LIMIT = 100;

/** Runs a store read, turning a foreign cursor into Codex's `invalid cursor: …` error. */
export async function withCursor<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new InvalidRequestError(err.message);
    throw err;
  }
}

/** Every turn of a thread, oldest first. */
export async function allTurns(store: ThreadStore, tenant: string, threadId: string): Promise<TurnRecord[]> {
  const out: TurnRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listTurns(tenant, threadId, { cursor, limit: FULL_READ_PAGE, sortDirection: "asc" });
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** Every item of a thread (or of one turn), oldest first. */
export async function allItems(store: ThreadStore, tenant: string, threadId: string, turnId: string | null = null): Promise<ItemRecord[]> {
  const out: ItemRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listItems(tenant, threadId, { turnId, cursor, limit: FULL_READ_PAGE, sortDirection: "asc" });
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** The thread's history as wire turns with every item (`itemsView: "full"`). */
export async function fullTurns(store: ThreadStore, tenant: string, threadId: string): Promise<Turn[]> {
  const [turns, items] = await Promise.all([allTurns(store, tenant, threadId), allItems(store, tenant, threadId)]);
  const byTurn = groupByTurn(items);
  return turns.map((t) => toWireTurn(t, byTurn.get(t.id) ?? [], "full"));
}

function groupByTurn(items: ItemRecord[]): Map<string, ThreadItem[]> {
  const byTurn = new Map<string, ThreadItem[]>();
  for (const i of items) {
    let list = byTurn.get(i.turnId);
    if (!list) byTurn.set(i.turnId, (list = []));
    list.push(i.item);
  }
  return byTurn;
}

export interface TurnsListParams {
  cursor?: string | null;
  limit?: number | null;
  sortDirection?: "asc" | "desc" | null;
  itemsView?: Turn["itemsView"] | null;
}

/** `thread/turns/list`: newest first and `summary` items by default. */
export async function turnsPage(store: ThreadStore, tenant: string, threadId: string, p: TurnsListParams): Promise<Record<string, unknown>> {
  const page = await withCursor(() =>
    store.listTurns(tenant, threadId, {
      cursor: p.cursor ?? null,
      limit: p.limit ?? DEFAULT_TURNS_PAGE_LIMIT,
      sortDirection: p.sortDirection ?? "desc",
    }),
  );
  const view = p.itemsView ?? "summary";
  const data: Turn[] = [];
  for (const t of page.data) {
    if (view === "notLoaded") {
      data.push(toWireTurn(t, [], view));
      continue;
    }
    const items = (await allItems(store, tenant, threadId, t.id)).map((i) => i.item);
    data.push(toWireTurn(t, view === "full" ? items : summaryItems(items), view));
  }
  return { data, nextCursor: page.nextCursor, backwardsCursor: page.backwardsCursor ?? null };
}

export interface ItemsListParams {
  turnId?: string | null;
  cursor?: string | { type: "item"; itemId: string } | null;
  limit?: number | null;
  sortDirection?: "asc" | "desc" | null;
}

/** `thread/items/list`: oldest first by default; an unknown turn gives an empty page. */
export async function itemsPage(store: ThreadStore, tenant: string, threadId: string, p: ItemsListParams): Promise<Record<string, unknown>> {
  const limit = p.limit ?? DEFAULT_ITEMS_PAGE_LIMIT;
  const sortDirection = p.sortDirection ?? "asc";
  const cursor = p.cursor ?? null;
  if (typeof cursor === "object" && cursor !== null) return itemAnchorPage(store, tenant, threadId, p.turnId ?? null, cursor.itemId, limit, sortDirection);
  const page = await withCursor(() => store.listItems(tenant, threadId, { turnId: p.turnId ?? null, cursor, limit, sortDirection }));
  return { data: page.data.map(toEntry), nextCursor: page.nextCursor, backwardsCursor: page.backwardsCursor ?? null };
}

/** An `{type:"item", itemId}` cursor: the items of one turn after (asc) or before (desc) the anchor. */
async function itemAnchorPage(
  store: ThreadStore,
  tenant: string,
  threadId: string,
  turnId: string | null,
  itemId: string,
  limit: number,
  sortDirection: "asc" | "desc",
): Promise<Record<string, unknown>> {
  if (turnId === null) throw new InvalidRequestError("invalid cursor: an item cursor requires turnId");
  const items = await allItems(store, tenant, threadId, turnId);
  if (sortDirection === "desc") items.reverse();
  const at = items.findIndex((i) => i.item.id === itemId);
  if (at < 0) throw new InvalidRequestError(`invalid cursor: item not found: ${itemId}`);
  const rest = items.slice(at + 1);
  // Anchored pages continue with another item anchor (the last item's id); no store cursor applies.
  return { data: rest.slice(0, limit).map(toEntry), nextCursor: null, backwardsCursor: null };
}

function toEntry(i: ItemRecord): Record<string, unknown> {
  return { turnId: i.turnId, item: i.item, startedAtMs: i.item.startedAtMs ?? null, completedAtMs: i.item.completedAtMs ?? null };
}
