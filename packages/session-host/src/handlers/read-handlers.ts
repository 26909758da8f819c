import type { ThreadRecord, ThreadStore } from "@threadmesh/persistence";
import type { Origin, ThreadStatus } from "@threadmesh/protocol";
import type { CommandOutcome } from "../command-outcome.ts";
import { fullTurns, itemsPage, turnsPage } from "../store-reads.ts";
import { READ_DEPRECATION } from "../thread-errors.ts";
import { readStateOf, readerOf } from "./read-state.ts";
import { requesterNotification } from "../thread-events.ts";
import { toWireThread } from "../thread-view.ts";
import type { ThreadItemsListParams, ThreadReadParams, ThreadTurnsListParams } from "../params.ts";

/** Where a read is served from: a loaded thread's live view or the store alone. */
export interface ReadSource {
  store: ThreadStore;
  tenant: string;
  record: ThreadRecord;
  status: ThreadStatus;
  loaded: boolean;
}

/**
 * `thread/read`: never loads or subscribes; `includeTurns` hydrates history and sends the deprecation
 * notice first. `readState` is the sender's (null until a turn of the thread ended).
 */
export async function readThread(src: ReadSource, p: ThreadReadParams, origin: Origin | undefined): Promise<CommandOutcome> {
  const includeTurns = p.includeTurns === true;
  const turns = includeTurns ? await fullTurns(src.store, src.tenant, src.record.id) : [];
  const thread = toWireThread(src.record, src.status, src.loaded, turns);
  const before = includeTurns ? [requesterNotification("deprecationNotice", { summary: READ_DEPRECATION, details: null })] : [];
  const basis = (await src.store.readStateBases(src.tenant, readerOf(origin), [src.record.id])).get(src.record.id);
  return { result: { thread, readState: readStateOf(basis) }, before };
}

export async function listTurns(src: ReadSource, p: ThreadTurnsListParams): Promise<CommandOutcome> {
  return { result: await turnsPage(src.store, src.tenant, src.record.id, p) };
}

export async function listItems(src: ReadSource, p: ThreadItemsListParams): Promise<CommandOutcome> {
  return { result: await itemsPage(src.store, src.tenant, src.record.id, p) };
}
