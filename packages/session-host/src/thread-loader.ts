import type { HistoryRecord, ServerRequestRecord, ThreadRecord, ThreadStore, TurnRecord } from "@threadmesh/persistence";
import type { EventLog } from "@threadmesh/mesh";
import { InternalError, nowSeconds, type TurnError } from "@threadmesh/protocol";
import type { ThreadActorInit } from "./thread-actor.ts";
import { turnAbortedEntry } from "./turn/history-items.ts";
import { recoverFromWindow, type UnfinishedTurn } from "./window-recovery.ts";

/** Error of a turn found `inProgress` when a thread is loaded: its previous owner stopped mid-turn. */
export const HOST_STOPPED_ERROR: TurnError = {
  message: "the session host running this turn was lost before the turn completed; it could not safely continue",
  codexErrorInfo: "other",
  additionalDetails: null,
  misalignment: null,
};

/** State of a stored thread, claimed for this host, ready for an actor (everything but `services`). */
export type LoadedThreadState = Omit<ThreadActorInit, "services"> & {
  /**
   * The turn the previous owner left running, now stored as ended: interrupted, or completed when its
   * answer was whole ({@link ANSWERED}); null when there was none.
   */
  abandonedTurn?: TurnRecord | null;
  /** Why the abandoned turn could not run on here. */
  abandonReason?: string | null;
  /** The turn the previous owner left running at a safe point: this owner runs it on (see {@link continuable}). */
  continuedTurn?: TurnRecord | null;
  /** Server requests the previous owner left pending: nobody will answer them, so they are to be resolved. */
  orphanedRequests?: ServerRequestRecord[];
};

/**
 * Takes ownership of a stored thread and reads what its actor needs: the epoch is raised by one (the
 * store fences the previous owner's writes), the model history is loaded whole, and the next ordinals
 * follow the stored ones. A turn the previous owner left `inProgress` continues here when it stopped at a
 * safe point ({@link continuable}); otherwise it is stored as interrupted with a clear error and a
 * `<turn_aborted>` marker, so it is never silently lost. The server requests it left pending are read
 * after the claim, when the previous owner can no longer store more.
 */
export async function claimStoredThread(
  store: ThreadStore,
  tenant: string,
  record: ThreadRecord,
  opts: { abandonedTurnError: TurnError | null; epoch?: number; eventLog?: EventLog | undefined; recover?: boolean; continueTurns?: boolean } = {
    abandonedTurnError: HOST_STOPPED_ERROR,
  },
): Promise<LoadedThreadState> {
  const epoch = opts.epoch ?? record.ownerEpoch + 1;
  if (!(await store.claimEpoch(tenant, record.id, epoch))) {
    throw new InternalError(`thread ${record.id} is owned by another session host`);
  }
  // The previous owner may have published past the stored lastSeq before it stopped: continue after
  // the newest seq the event window holds, so seq stays strictly increasing across epochs.
  const [history, lastTurns, lastItems, publishedSeq, orphanedRequests] = await Promise.all([
    store.loadHistory(tenant, record.id),
    store.listTurns(tenant, record.id, { limit: 1, sortDirection: "desc" }),
    store.listItems(tenant, record.id, { limit: 1, sortDirection: "desc" }),
    opts.eventLog?.tail(tenant, record.id).then((t) => t?.seq ?? 0) ?? 0,
    store.listServerRequests(tenant, record.id),
  ]);
  let lastTurn = lastTurns.data[0] ?? null;
  const entries = history.map((h) => h.entry);
  /** The stored history with what the window recovery wrote back. */
  let records: readonly HistoryRecord[] = history;
  let unfinishedTurn: UnfinishedTurn | null = null;
  let nextHistoryOrdinal = (history.at(-1)?.ordinal ?? -1) + 1;
  let nextItemOrdinal = (lastItems.data[0]?.ordinal ?? -1) + 1;
  // The writer stores a turn's end after everything before it: a turn still `inProgress` means the
  // previous owner stopped with writes pending, which the event window may still hold. An adoption
  // (the owner lapsed) looks too: the turn's start itself may be among the writes that never landed.
  if (opts.eventLog !== undefined && (opts.recover === true || lastTurn?.status === "inProgress")) {
    const recovered = await recoverFromWindow({
      store,
      log: opts.eventLog,
      tenant,
      threadId: record.id,
      previousEpoch: record.ownerEpoch,
      epoch,
      nextItemOrdinal,
      nextHistoryOrdinal,
      storedHistory: history,
    });
    nextItemOrdinal += recovered.items.length;
    nextHistoryOrdinal += recovered.history.length;
    entries.push(...recovered.history.map((h) => h.entry));
    records = [...history, ...recovered.history];
    unfinishedTurn = recovered.unfinishedTurn;
    // A turn stored as started of which the window holds nothing: its owner stopped (a lapsed lease
    // silences a thread at once) before the turn's first event went out, so no client saw any of it.
    // What the store holds of it decides whether it runs on, as for a turn the window shows.
    if (unfinishedTurn === null && lastTurn?.status === "inProgress" && !recovered.mentions(lastTurn.id)) {
      unfinishedTurn = { id: lastTurn.id, startedAt: lastTurn.startedAt, openItems: [], completedItems: [] };
    }
    const open = unfinishedTurn;
    if (open !== null && open.id !== lastTurn?.id) {
      lastTurn = { tenantId: tenant, threadId: record.id, id: open.id, ordinal: (lastTurn?.ordinal ?? -1) + 1, status: "inProgress", error: null, startedAt: open.startedAt, completedAt: null, durationMs: null };
    }
  }
  let abandonedTurn: TurnRecord | null = null;
  let continuedTurn: TurnRecord | null = null;
  let abandonReason: string | null = null;
  if (lastTurn?.status === "inProgress") {
    const turnId = lastTurn.id;
    abandonReason =
      opts.continueTurns !== true || opts.abandonedTurnError === null
        ? "turns are not continued"
        : unfinishedTurn === null
          ? "the event window holds no unfinished turn"
          : unfinishedTurn.id !== turnId
            ? "the event window's unfinished turn is another"
            : whyNotContinuable(unfinishedTurn, records.filter((h) => h.turnId === turnId).map((h) => h.entry), orphanedRequests);
  }
  if (lastTurn?.status === "inProgress" && abandonReason === null) {
    continuedTurn = lastTurn;
  } else if (lastTurn?.status === "inProgress" && abandonReason === ANSWERED) {
    const now = nowSeconds();
    abandonedTurn = { ...lastTurn, status: "completed", error: null, completedAt: now, durationMs: lastTurn.startedAt === null ? null : (now - lastTurn.startedAt) * 1000 };
    await store.putTurn(abandonedTurn, epoch);
  } else if (lastTurn?.status === "inProgress") {
    const now = nowSeconds();
    abandonedTurn = { ...lastTurn, status: "interrupted", error: opts.abandonedTurnError, completedAt: now, durationMs: lastTurn.startedAt === null ? null : (now - lastTurn.startedAt) * 1000 };
    await store.putTurn(abandonedTurn, epoch);
    const marker = turnAbortedEntry();
    await store.appendHistory([{ tenantId: tenant, threadId: record.id, turnId: lastTurn.id, ordinal: nextHistoryOrdinal++, entry: marker }], epoch);
    entries.push(marker);
  }
  return {
    tenant,
    // A stored request's seq is a floor too: its resolution must come after it for clients replaying from it.
    record: { ...record, ownerEpoch: epoch, status: { type: "idle" }, lastSeq: Math.max(record.lastSeq, publishedSeq, ...orphanedRequests.map((r) => r.seq)) },
    history: entries,
    nextHistoryOrdinal,
    nextItemOrdinal,
    nextTurnOrdinal: (lastTurn?.ordinal ?? -1) + 1,
    lastTurnId: lastTurn?.id ?? null,
    abandonedTurn,
    abandonReason,
    continuedTurn,
    orphanedRequests,
  };
}

/**
 * True when a turn the previous owner left running can go on with a new model request: the clients saw
 * no tool item start without completing (a command may have run halfway), no server request of the turn
 * waits for an answer, every tool the turn completed has its output in the history, and the turn's last
 * model-history step is its input or a tool result. A response that had completed its message but not
 * yet ended the turn is not re-requested: the answer would come twice.
 */
export function continuable(turn: UnfinishedTurn, entries: readonly unknown[], orphaned: readonly ServerRequestRecord[]): boolean {
  return whyNotContinuable(turn, entries, orphaned) === null;
}

/** Why the turn cannot run on from where its owner stopped ({@link continuable}); null when it can. */
export function whyNotContinuable(turn: UnfinishedTurn, entries: readonly unknown[], orphaned: readonly ServerRequestRecord[]): string | null {
  if (turn.openItems.some((i) => !MODEL_ITEM_TYPES.has(i.type))) return "a tool was running";
  if (orphaned.some((r) => r.turnId === turn.id)) return "a server request was pending";
  const outputs = new Set(entries.flatMap((e) => (isEntry(e, "function_call_output") ? [(e as { call_id?: unknown }).call_id] : [])));
  if (turn.completedItems.some((i) => TOOL_ITEM_TYPES.has(i.type) && !outputs.has(i.id))) return "a tool's result is not in the history";
  const last = entries.at(-1);
  if (isEntry(last, "function_call_output")) return null;
  if (isEntry(last, "message") && (last as { role?: unknown }).role === "user" && !isTurnAborted(last)) return null;
  if (answered(turn, entries)) return ANSWERED;
  return last === undefined ? "nothing of the turn is in the history" : isTurnAborted(last) ? "the turn was ended" : `the history ends with ${String((last as { type?: unknown; role?: unknown })?.type)} ${String((last as { role?: unknown })?.role ?? "")}`.trim();
}

/**
 * Why a turn is not continued although nothing was lost: the previous owner had its answer whole (the
 * turn's input, then an assistant message, nothing open, no tool waiting) and stopped before it stored
 * the turn's end. Asking the model again would answer twice; the turn ends completed instead.
 */
export const ANSWERED = "its answer was complete";

function answered(turn: UnfinishedTurn, entries: readonly unknown[]): boolean {
  const last = entries.at(-1);
  if (turn.openItems.length > 0 || !isEntry(last, "message") || (last as { role?: unknown }).role !== "assistant") return false;
  return entries.some((e) => isEntry(e, "message") && (e as { role?: unknown }).role === "user" && !isTurnAborted(e));
}

/** Items a model response streams: left open, nothing ran. */
const MODEL_ITEM_TYPES = new Set(["agentMessage", "reasoning", "userMessage", "plan"]);
/** Items of a tool call whose output goes back to the model. */
const TOOL_ITEM_TYPES = new Set(["commandExecution", "fileChange", "dynamicToolCall", "mcpToolCall"]);

function isEntry(e: unknown, type: string): boolean {
  return typeof e === "object" && e !== null && (e as { type?: unknown }).type === type;
}

function isTurnAborted(e: unknown): boolean {
  return JSON.stringify(e).includes("<turn_aborted>");
}

/** State of a thread this host just created: nothing to read back. */
export function freshThreadState(tenant: string, record: ThreadRecord): LoadedThreadState {
  return { tenant, record, history: [], nextHistoryOrdinal: 0, nextItemOrdinal: 0, nextTurnOrdinal: 0, lastTurnId: null };
}
