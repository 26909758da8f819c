import type { EventLog } from "@threadmesh/mesh";
import type { ItemRecord, HistoryRecord, ThreadStore } from "@threadmesh/persistence";
import { EventHeader, TEXT_DECODER, splitEventBatch, type ThreadItem, type UserInput } from "@threadmesh/protocol";
import { assistantMessageEntry, userMessageEntry } from "./turn/history-items.ts";

/** Stored items compared against the window: lost writes are always the newest ones (the writer is ordered). */
const RECENT_ITEMS = 500;

/** A turn the previous owner announced started and never completed, as the event window shows it. */
export interface UnfinishedTurn {
  id: string;
  startedAt: number | null;
  /** Items of the turn announced started and never completed (`item/started` without `item/completed`). */
  openItems: Array<{ id: string; type: string }>;
  /** Ids of the turn's items announced completed. */
  completedItems: Array<{ id: string; type: string }>;
}

/** What the new owner wrote back, and the turn the previous owner left running, as its clients saw it. */
export interface RecoveredItems {
  items: ItemRecord[];
  history: HistoryRecord[];
  /** A turn started (per the window) by the previous owner without a `turn/completed`; null when none. */
  unfinishedTurn: UnfinishedTurn | null;
  /** Whether any event in the window was published while this turn ran (`tm-a`) or names it. */
  mentions(turnId: string): boolean;
}

/**
 * Writes back what the previous owner announced but did not live to store. A host publishes
 * `item/completed` before its ordered writer stores the item, so a host killed in between leaves an
 * item its clients saw completed but the store lacks. The event window still holds that event; the
 * adopting owner stores every such item of the previous epoch (and the messages' model history, so the
 * next request sees them) after the stored ones, in publish order.
 */
export async function recoverFromWindow(opts: {
  store: ThreadStore;
  log: EventLog;
  tenant: string;
  threadId: string;
  previousEpoch: number;
  epoch: number;
  nextItemOrdinal: number;
  nextHistoryOrdinal: number;
  /** The stored history: an entry already there (written before its item) is not added twice. */
  storedHistory: readonly HistoryRecord[];
}): Promise<RecoveredItems> {
  const { store, tenant, threadId } = opts;
  const events = await opts.log.read(tenant, threadId, 0);
  const unfinishedTurn = unfinished(events);
  const mentions = (turnId: string) => mentionsTurn(events, turnId);
  const announced = completedItems(events, opts.previousEpoch);
  if (announced.length === 0) return { items: [], history: [], unfinishedTurn, mentions };
  const stored = new Set((await store.listItems(tenant, threadId, { limit: RECENT_ITEMS, sortDirection: "desc" })).data.map((r) => r.item.id));
  const storedEntries = new Set(opts.storedHistory.map((h) => `${h.turnId} ${JSON.stringify(h.entry)}`));
  const items: ItemRecord[] = [];
  const history: HistoryRecord[] = [];
  let itemOrdinal = opts.nextItemOrdinal;
  let historyOrdinal = opts.nextHistoryOrdinal;
  for (const { turnId, item } of announced) {
    if (stored.has(item.id)) continue;
    stored.add(item.id);
    items.push({ tenantId: tenant, threadId, turnId, ordinal: itemOrdinal++, item });
    const entry = await historyEntryOf(item);
    if (entry !== null && !storedEntries.has(`${turnId} ${JSON.stringify(entry)}`)) history.push({ tenantId: tenant, threadId, turnId, ordinal: historyOrdinal++, entry });
  }
  for (const i of items) await store.putItem(i, opts.epoch);
  if (history.length > 0) await store.appendHistory(history, opts.epoch);
  return { items, history, unfinishedTurn, mentions };
}

/** True when an event in the window was published while `turnId` ran, or names it. */
function mentionsTurn(events: Logged, turnId: string): boolean {
  if (events.some((e) => e.headers[EventHeader.ActiveTurn] === turnId)) return true;
  const quoted = JSON.stringify(turnId);
  return events.some((e) => TEXT_DECODER.decode(e.data).includes(quoted));
}

type Logged = Awaited<ReturnType<EventLog["read"]>>;

/** Notification frames in the window (of one epoch, or of every one) whose method is one of `methods`, oldest first. */
function framesOf(events: Logged, epoch: number | "any", methods: readonly string[]): Array<{ method: string; params: any }> {
  const prefixes = methods.map((m) => `{"method":${JSON.stringify(m)}`);
  const out: Array<{ method: string; params: any }> = [];
  for (const e of events) {
    const kind = e.headers["tm-k"];
    if ((epoch !== "any" && Number(e.headers["tm-e"]) !== epoch) || (kind !== "n" && kind !== "b")) continue;
    const frames = kind === "b" ? splitEventBatch(e.data) : [e.data];
    for (const f of frames) {
      const text = TEXT_DECODER.decode(f);
      if (!prefixes.some((p) => text.startsWith(p))) continue;
      out.push(JSON.parse(text) as { method: string; params: any });
    }
  }
  return out;
}

/** `item/completed` notifications of one epoch in the window, oldest first. */
function completedItems(events: Logged, epoch: number): Array<{ turnId: string; item: ThreadItem }> {
  return framesOf(events, epoch, ["item/completed"]).map((f) => ({ turnId: f.params.turnId as string, item: f.params.item as ThreadItem }));
}

/**
 * The last turn announced started and never completed, with the items left open. Every epoch counts: a
 * turn one owner started and the next continued (without a new `turn/started`) is still that turn.
 */
function unfinished(events: Logged): UnfinishedTurn | null {
  let open: UnfinishedTurn | null = null;
  let started = new Map<string, string>();
  for (const f of framesOf(events, "any", ["turn/started", "turn/completed", "item/started", "item/completed"])) {
    if (f.method === "turn/started" || f.method === "turn/completed") {
      const turn = f.params.turn as { id: string; startedAt?: number | null };
      if (f.method === "turn/started") {
        open = { id: turn.id, startedAt: turn.startedAt ?? null, openItems: [], completedItems: [] };
        started = new Map();
      } else if (open?.id === turn.id) open = null;
      continue;
    }
    if (open === null || f.params.turnId !== open.id) continue;
    const item = f.params.item as { id: string; type: string };
    if (f.method === "item/started") started.set(item.id, item.type);
    else {
      started.delete(item.id);
      open.completedItems.push({ id: item.id, type: item.type });
    }
  }
  if (open !== null) open.openItems = [...started].map(([id, type]) => ({ id, type }));
  return open;
}

/** The model history entry a completed item stands for, where the item alone is enough to rebuild it. */
async function historyEntryOf(item: ThreadItem): Promise<unknown> {
  if (item.type === "agentMessage") return assistantMessageEntry(item.text);
  if (item.type === "userMessage") return userMessageEntry(item.content as UserInput[]);
  return null;
}
