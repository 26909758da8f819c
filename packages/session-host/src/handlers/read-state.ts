import { randomUUID } from "node:crypto";
import type { ReadStateBasis, ThreadStore } from "@threadmesh/persistence";
import { InvalidRequestError, type Origin, type ThreadReadState } from "@threadmesh/protocol";
import { originUser } from "../access/thread-access.ts";
import type { CommandOutcome } from "../command-outcome.ts";
import { requesterNotification } from "../thread-events.ts";

/** Whose read marks a command reads and writes: its user, or `""` for a tenant-wide credential. */
export function readerOf(origin: Origin | undefined): string {
  return originUser(origin) ?? "";
}

/**
 * A reader's read state of a thread, as Codex computes it: null until a turn of the thread ended (no
 * durable state yet); without a mark, unread from the first ended turn; marked unread, from the thread's
 * start; marked read, from the first turn that ended after the mark (null: read). The revision changes
 * with every mark and every ended turn.
 */
export function readStateOf(basis: ReadStateBasis | undefined): ThreadReadState | null {
  if (!basis || (basis.ended.length === 0 && basis.mark === null)) return null;
  const last = basis.ended.at(-1)?.id ?? "";
  const m = basis.mark;
  const revision = `${m?.revision ?? "0"}.${last}`;
  if (m === null) return { firstUnread: { type: "turn", turnId: basis.ended[0]!.id }, revision };
  if (m.mark === "unread") return { firstUnread: { type: "threadStart" }, revision };
  const next = basis.ended.find((t) => t.ordinal > m.seenOrdinal);
  return { firstUnread: next ? { type: "turn", turnId: next.id } : null, revision };
}

/** The read states of `threadIds` for the command's reader, keyed by thread id; threads without one are left out. */
export async function readStatesOf(store: ThreadStore, tenant: string, origin: Origin | undefined, threadIds: readonly string[]): Promise<Record<string, ThreadReadState>> {
  const bases = await store.readStateBases(tenant, readerOf(origin), threadIds);
  const out: Record<string, ThreadReadState> = {};
  for (const id of threadIds) {
    const s = readStateOf(bases.get(id));
    if (s) out[id] = s;
  }
  return out;
}

/** Codex's answer to an update of a thread that has no read state yet (no turn ended). */
function unavailableError(): InvalidRequestError {
  return new InvalidRequestError("thread read state unavailable");
}

/** Codex's answer to an update whose `expectedRevision` is not the current one; `data` carries the current state. */
function conflictError(current: ThreadReadState): InvalidRequestError {
  return new InvalidRequestError("read state changed", { reason: "readStateConflict", readState: current });
}

/**
 * `thread/readState/update`: marks the thread read (up to its last ended turn) or unread from its start
 * for the sender, when `expectedRevision` is the revision the sender saw; the sender is then sent
 * `thread/readState/changed` with the new state.
 */
export async function updateReadState(
  store: ThreadStore,
  tenant: string,
  origin: Origin | undefined,
  p: { threadId: string; expectedRevision: string; operation: { type: "read" | "unread" } },
): Promise<CommandOutcome> {
  const reader = readerOf(origin);
  const basis = (await store.readStateBases(tenant, reader, [p.threadId])).get(p.threadId);
  const current = readStateOf(basis);
  if (!basis || !current) throw unavailableError();
  if (current.revision !== p.expectedRevision) throw conflictError(current);
  const mark = { mark: p.operation.type, seenOrdinal: basis.ended.at(-1)?.ordinal ?? -1, revision: randomUUID() };
  if (!(await store.putReadMark(tenant, p.threadId, reader, mark, basis.mark?.revision ?? null))) {
    const latest = readStateOf((await store.readStateBases(tenant, reader, [p.threadId])).get(p.threadId));
    throw latest ? conflictError(latest) : unavailableError();
  }
  const readState = readStateOf({ ...basis, mark })!;
  return { result: { readState }, after: [requesterNotification("thread/readState/changed", { threadId: p.threadId, readState })] };
}
