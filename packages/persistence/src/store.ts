import type { Thread, ThreadItem, ThreadStatus, Turn, TurnError, TurnStatus, ThreadTokenUsage } from "@threadmesh/protocol";

/**
 * Durable state of threads, turns and items. Every row carries `tenant_id`; every method takes the
 * tenant and never returns another tenant's rows (a foreign id behaves like a missing one).
 */

/** Settings of a thread that persist across turns and restarts. */
export interface ThreadSettings {
  model: string;
  modelProvider: string;
  reasoningEffort: string | null;
  approvalPolicy: unknown;
  approvalsReviewer: string;
  /** SandboxPolicy object. */
  sandbox: unknown;
  baseInstructions: string | null;
  developerInstructions: string | null;
  serviceTier: string | null;
  /** Dynamic tools declared at thread/start, kept verbatim. */
  dynamicTools: unknown[] | null;
  /** Built-in permission profile chosen at thread/start (`:read-only`, …); absent or null: none. */
  permissionProfile?: string | null;
  /** Built-in tools the thread's config switched off (`features.shell_tool = false` → `shell`). */
  disabledTools?: string[];
}

export interface ThreadRecord {
  tenantId: string;
  id: string;
  forkedFromId: string | null;
  name: string | null;
  preview: string;
  cwd: string;
  ephemeral: boolean;
  archived: boolean;
  /** A thread is listed and resumable once its first turn started. */
  materialized: boolean;
  /** Last status the owner wrote; `notLoaded` when no host holds it. */
  status: ThreadStatus;
  settings: ThreadSettings;
  tokenUsage: ThreadTokenUsage | null;
  originator: string | null;
  source: string;
  /** Seconds. */
  createdAt: number;
  updatedAt: number;
  /** Owner epoch of the last writer (fencing). */
  ownerEpoch: number;
  /** Last event sequence number stamped for this thread. */
  lastSeq: number;
  /** The user who started the thread; null (or absent) when a tenant-wide credential did. */
  ownerUser?: string | null;
  /** Users of the tenant the owner shares the thread with; absent: none. */
  sharedWith?: string[];
  /** Users among `sharedWith` the owner delegates its approvals to; absent: none. */
  approvers?: string[];
}

export interface TurnRecord {
  tenantId: string;
  threadId: string;
  id: string;
  /** 0-based position in the thread. */
  ordinal: number;
  status: TurnStatus;
  error: TurnError | null;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  /** JSON Schema the turn's final answer must follow (`turn/start`'s `outputSchema`); null or absent when none. */
  outputSchema?: unknown;
  /** The user who started the turn; null (or absent) when a tenant-wide credential did. */
  startedBy?: string | null;
}

export interface ItemRecord {
  tenantId: string;
  threadId: string;
  turnId: string;
  /** Position within the thread, strictly increasing across turns. */
  ordinal: number;
  item: ThreadItem;
}

/** One input item of the model conversation (Responses API input item JSON), in order. */
export interface HistoryRecord {
  tenantId: string;
  threadId: string;
  turnId: string;
  ordinal: number;
  entry: unknown;
}

/**
 * A server request (approval, user input, dynamic tool call) the thread's owner is waiting on: stored
 * while it is pending, so that an owner adopting the thread can resolve it for clients.
 */
export interface ServerRequestRecord {
  tenantId: string;
  threadId: string;
  /** Owner-assigned key, unique within the thread across owners. */
  requestKey: string;
  turnId: string;
  itemId: string | null;
  method: string;
  params: unknown;
  /** Event sequence number of the request; orders a thread's requests across owners. */
  seq: number;
  /** Seconds. */
  createdAt: number;
}

export interface ThreadListQuery {
  tenantId: string;
  cursor?: string | null;
  limit: number;
  sortKey: "created_at" | "updated_at";
  sortDirection: "asc" | "desc";
  archived: boolean;
  cwd?: string[] | null;
  searchTerm?: string | null;
  modelProviders?: string[] | null;
  excludedThreadIds?: string[] | null;
  /** Only these threads; absent or null: no restriction (an empty list is answered before the store). */
  includedThreadIds?: string[] | null;
  /** Only threads this user started or is shared with; absent or null: every thread of the tenant. */
  visibleTo?: string | null;
}

export interface Page<T> {
  data: T[];
  /** Continues in the same direction after the last element; null on the last page. */
  nextCursor: string | null;
  /**
   * Anchored at the first element of the page and including it; passed back with the opposite
   * `sortDirection` it lists from that element the other way (e.g. newer turns since a page was read).
   * Null when the page is empty.
   */
  backwardsCursor?: string | null;
}

/** Thrown when a fenced write names a thread that is not stored (for this tenant). */
export class MissingThreadError extends Error {
  constructor(readonly threadId: string) {
    super(`thread not found: ${threadId}`);
    this.name = "MissingThreadError";
  }
}

/** Thrown for a cursor this store did not issue (or issued for another sort key or listing). */
export class InvalidCursorError extends Error {
  constructor(readonly cursor: string) {
    super(`invalid cursor: ${cursor}`);
    this.name = "InvalidCursorError";
  }
}

/** Thrown when a write is fenced off: the thread's stored epoch is newer than the writer's. */
export class StaleEpochError extends Error {
  constructor(readonly threadId: string, readonly writerEpoch: number, readonly storedEpoch: number) {
    super(`stale owner epoch ${writerEpoch} < ${storedEpoch} for thread ${threadId}`);
    this.name = "StaleEpochError";
  }
}

export type { ReadMark, ReadStateBasis, TurnRef } from "./read-states/read-state-types.ts";
import type { ReadMark, ReadStateBasis } from "./read-states/read-state-types.ts";

export interface ThreadStore {
  createThread(t: ThreadRecord): Promise<void>;
  getThread(tenantId: string, id: string): Promise<ThreadRecord | null>;
  /**
   * Partial update, fenced: rejected with StaleEpochError when `epoch` is older than the stored one, with
   * MissingThreadError when the thread is not stored. A successful update records `epoch` as the stored
   * epoch (it can only rise); `patch.ownerEpoch` is ignored — epochs move only through writers' epochs.
   */
  updateThread(tenantId: string, id: string, epoch: number, patch: Partial<Omit<ThreadRecord, "tenantId" | "id">>): Promise<void>;
  /**
   * Raises the stored epoch to `epoch` when it is newer (takeover). Returns false if the stored one is
   * newer or the thread is not stored; true when it already equals `epoch`.
   */
  claimEpoch(tenantId: string, id: string, epoch: number): Promise<boolean>;
  /** Removes the thread with its turns, items, history and server requests; a missing thread is a no-op. */
  deleteThread(tenantId: string, id: string): Promise<void>;
  /**
   * Materialized, non-ephemeral threads, filtered and sorted (ties broken by id). Throws InvalidCursorError
   * (`invalid cursor: <cursor>`) for a cursor it did not issue for this sort key.
   */
  listThreads(q: ThreadListQuery): Promise<Page<ThreadRecord>>;

  /** Inserts or replaces a turn (by id), fenced by epoch. */
  putTurn(t: TurnRecord, epoch: number): Promise<void>;
  listTurns(tenantId: string, threadId: string, opts: { cursor?: string | null; limit: number; sortDirection: "asc" | "desc" }): Promise<Page<TurnRecord>>;
  getTurn(tenantId: string, threadId: string, turnId: string): Promise<TurnRecord | null>;

  /**
   * Appends a completed item, fenced by epoch; an item id already stored is replaced (idempotent).
   * Fenced writes (`putTurn`, `putItem`, `appendHistory`) reject with StaleEpochError or MissingThreadError
   * and then write nothing.
   */
  putItem(i: ItemRecord, epoch: number): Promise<void>;
  listItems(
    tenantId: string,
    threadId: string,
    opts: { turnId?: string | null; cursor?: string | null; limit: number; sortDirection: "asc" | "desc" },
  ): Promise<Page<ItemRecord>>;

  /** Appends model-history entries, fenced by epoch, all or none; an ordinal already stored is replaced. */
  appendHistory(entries: HistoryRecord[], epoch: number): Promise<void>;
  loadHistory(tenantId: string, threadId: string): Promise<HistoryRecord[]>;

  /**
   * Stores a pending server request, fenced by epoch like `putItem`; a key already stored is replaced.
   * Rejects with StaleEpochError or MissingThreadError and then writes nothing.
   */
  putServerRequest(r: ServerRequestRecord, epoch: number): Promise<void>;
  /**
   * Removes a resolved server request, fenced by epoch; a key that is not stored is a no-op. Rejects with
   * StaleEpochError or MissingThreadError and then removes nothing.
   */
  deleteServerRequest(tenantId: string, threadId: string, requestKey: string, epoch: number): Promise<void>;
  /** The thread's stored server requests in issue order (`seq`). */
  listServerRequests(tenantId: string, threadId: string): Promise<ServerRequestRecord[]>;

  /**
   * Copies turns, items and history of `from` (through `lastTurnId` inclusive when given) to `to`, keeping
   * ids and ordinals; rows `to` already has are left alone. Throws `turn not found: <id>` for an unknown
   * `lastTurnId`.
   */
  copyThreadContent(tenantId: string, from: string, to: string, lastTurnId: string | null): Promise<void>;

  /**
   * For each of `threadIds`, `reader`'s read mark (null when it set none) and the thread's ended turns in
   * order, from which the reader's read state is computed.
   */
  readStateBases(tenantId: string, reader: string, threadIds: readonly string[]): Promise<Map<string, ReadStateBasis>>;
  /**
   * Sets `reader`'s mark on a thread when its stored revision is `expectedRevision` (null: when it has no
   * mark yet); false when another mark came first.
   */
  putReadMark(tenantId: string, threadId: string, reader: string, mark: ReadMark, expectedRevision: string | null): Promise<boolean>;

  /** True when the backing database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Converts a stored thread into the wire `Thread` (turns empty) — shared by every reader. */
export type ThreadView = (r: ThreadRecord, status: ThreadStatus, turns?: Turn[]) => Thread;
