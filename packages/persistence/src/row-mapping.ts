import type { Selectable, Updateable } from "kysely";
import type { HistoryTable, ItemsTable, ThreadsTable, TurnsTable } from "./database.ts";
import type { HistoryRecord, ItemRecord, ThreadRecord, TurnRecord } from "./store.ts";

/** Conversions between records and rows: booleans as 0/1, nested objects as JSON text. */

type ThreadPatch = Partial<Omit<ThreadRecord, "tenantId" | "id">>;

export function threadToRow(t: ThreadRecord): ThreadsTable {
  return {
    tenant_id: t.tenantId,
    id: t.id,
    forked_from_id: t.forkedFromId,
    name: t.name,
    preview: t.preview,
    cwd: t.cwd,
    ephemeral: flag(t.ephemeral),
    archived: flag(t.archived),
    materialized: flag(t.materialized),
    status: JSON.stringify(t.status),
    settings: JSON.stringify(t.settings),
    model_provider: t.settings.modelProvider,
    token_usage: jsonOrNull(t.tokenUsage),
    originator: t.originator,
    source: t.source,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    owner_epoch: t.ownerEpoch,
    last_seq: t.lastSeq,
    owner_user: t.ownerUser ?? null,
    shared_with: JSON.stringify(t.sharedWith ?? []),
    approvers: JSON.stringify(t.approvers ?? []),
  };
}

/** The columns a patch changes; `ownerEpoch` is not patchable (see `ThreadStore.updateThread`). */
export function threadPatchToRow(p: ThreadPatch): Updateable<ThreadsTable> {
  const row: Updateable<ThreadsTable> = {};
  if (p.forkedFromId !== undefined) row.forked_from_id = p.forkedFromId;
  if (p.name !== undefined) row.name = p.name;
  if (p.preview !== undefined) row.preview = p.preview;
  if (p.cwd !== undefined) row.cwd = p.cwd;
  if (p.ephemeral !== undefined) row.ephemeral = flag(p.ephemeral);
  if (p.archived !== undefined) row.archived = flag(p.archived);
  if (p.materialized !== undefined) row.materialized = flag(p.materialized);
  if (p.status !== undefined) row.status = JSON.stringify(p.status);
  if (p.settings !== undefined) {
    row.settings = JSON.stringify(p.settings);
    row.model_provider = p.settings.modelProvider;
  }
  if (p.tokenUsage !== undefined) row.token_usage = jsonOrNull(p.tokenUsage);
  if (p.originator !== undefined) row.originator = p.originator;
  if (p.source !== undefined) row.source = p.source;
  if (p.createdAt !== undefined) row.created_at = p.createdAt;
  if (p.updatedAt !== undefined) row.updated_at = p.updatedAt;
  if (p.lastSeq !== undefined) row.last_seq = p.lastSeq;
  if (p.ownerUser !== undefined) row.owner_user = p.ownerUser;
  if (p.sharedWith !== undefined) row.shared_with = JSON.stringify(p.sharedWith);
  if (p.approvers !== undefined) row.approvers = JSON.stringify(p.approvers);
  return row;
}

export function rowToThread(r: Selectable<ThreadsTable>): ThreadRecord {
  return {
    tenantId: r.tenant_id,
    id: r.id,
    forkedFromId: r.forked_from_id,
    name: r.name,
    preview: r.preview,
    cwd: r.cwd,
    ephemeral: r.ephemeral === 1,
    archived: r.archived === 1,
    materialized: r.materialized === 1,
    status: JSON.parse(r.status),
    settings: JSON.parse(r.settings),
    tokenUsage: r.token_usage === null ? null : JSON.parse(r.token_usage),
    originator: r.originator,
    source: r.source,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ownerEpoch: r.owner_epoch,
    lastSeq: r.last_seq,
    ownerUser: r.owner_user,
    sharedWith: JSON.parse(r.shared_with),
    approvers: JSON.parse(r.approvers),
  };
}

export function rowToTurn(r: Selectable<TurnsTable>): TurnRecord {
  return {
    tenantId: r.tenant_id,
    threadId: r.thread_id,
    id: r.id,
    ordinal: r.ordinal,
    status: r.status as TurnRecord["status"],
    error: r.error === null ? null : JSON.parse(r.error),
    startedAt: r.started_at,
    completedAt: r.completed_at,
    durationMs: r.duration_ms,
    outputSchema: r.output_schema === null ? null : JSON.parse(r.output_schema),
    startedBy: r.started_by,
  };
}

export function rowToItem(r: Selectable<ItemsTable>): ItemRecord {
  return { tenantId: r.tenant_id, threadId: r.thread_id, turnId: r.turn_id, ordinal: r.ordinal, item: JSON.parse(r.body) };
}

export function rowToHistory(r: Selectable<HistoryTable>): HistoryRecord {
  return { tenantId: r.tenant_id, threadId: r.thread_id, turnId: r.turn_id, ordinal: r.ordinal, entry: JSON.parse(r.entry) };
}

export function jsonOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function flag(b: boolean): number {
  return b ? 1 : 0;
}
