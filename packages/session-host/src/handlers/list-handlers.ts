import type { ThreadListQuery } from "@threadmesh/persistence";
import type { Origin } from "@threadmesh/protocol";
import { canSee, originIsAdmin, originUser } from "../access/thread-access.ts";
import type { CommandOutcome } from "../command-outcome.ts";
import type { HostServices } from "../host-services.ts";
import { withCursor } from "../store-reads.ts";
import { readStatesOf } from "./read-state.ts";
import type { ThreadRegistry } from "../thread-registry.ts";
import { toWireThread } from "../thread-view.ts";
import type { ThreadListParams, ThreadLoadedListParams } from "../params.ts";

/** `thread/list` page size when the client names none. */
export const DEFAULT_THREAD_LIST_LIMIT = 25;
/** Sources listed when `sourceKinds` is empty or absent: the interactive ones. */
const INTERACTIVE_SOURCES = new Set(["cli", "vscode", "exec", "appServer"]);

/**
 * `thread/list`: materialized, non-ephemeral threads from the store, newest first by default. Threads
 * this host holds report their live status and environment; the others `notLoaded`.
 */
export async function listThreads(services: HostServices, registry: ThreadRegistry, tenant: string, p: ThreadListParams, origin?: Origin): Promise<CommandOutcome> {
  // An empty `includedThreadIds` matches nothing (Codex 0.171).
  if (p.includedThreadIds && p.includedThreadIds.length === 0) return { result: { data: [], readStates: {}, nextCursor: null, backwardsCursor: null } };
  const q: ThreadListQuery = {
    tenantId: tenant,
    cursor: p.cursor ?? null,
    limit: p.limit ?? DEFAULT_THREAD_LIST_LIMIT,
    sortKey: p.sortKey === "updated_at" || p.sortKey === "recency_at" ? "updated_at" : "created_at",
    sortDirection: p.sortDirection ?? "desc",
    archived: p.archived === true,
    cwd: p.cwd == null ? null : Array.isArray(p.cwd) ? p.cwd : [p.cwd],
    searchTerm: p.searchTerm ?? null,
    modelProviders: p.modelProviders?.length ? p.modelProviders : null,
    excludedThreadIds: p.excludedThreadIds?.length ? p.excludedThreadIds : null,
    includedThreadIds: p.includedThreadIds ?? null,
    // A user who is not an administrator lists the threads it started or that are shared with it.
    visibleTo: originIsAdmin(origin) ? null : (originUser(origin) ?? ""),
  };
  const page = await withCursor(() => services.store.listThreads(q));
  const kinds = p.sourceKinds?.length ? new Set(p.sourceKinds) : INTERACTIVE_SOURCES;
  const data = page.data
    .filter((r) => kinds.has(r.source))
    .map((r) => {
      const live = registry.get(tenant, r.id);
      return live && !live.closed ? toWireThread(live.record, live.status, true) : toWireThread(r, { type: "notLoaded" }, false);
    });
  // The sender's read states of the listed threads; a thread none of whose turns ended has none (absent key).
  const readStates = await readStatesOf(services.store, tenant, origin, data.map((t) => t.id));
  return { result: { data, readStates, nextCursor: page.nextCursor, backwardsCursor: page.backwardsCursor ?? null } };
}

/**
 * `thread/loaded/list`: ids of the threads this host holds that the requester may see, sorted; the cursor
 * is the last id of a page.
 */
export function listLoaded(registry: ThreadRegistry, tenant: string, p: ThreadLoadedListParams, origin?: Origin): CommandOutcome {
  const ids = registry
    .list(tenant)
    .filter((a) => canSee(a.record, origin))
    .map((a) => a.threadId)
    .sort();
  const from = p.cursor ? ids.findIndex((id) => id > p.cursor!) : 0;
  const rest = from < 0 ? [] : ids.slice(from);
  const limit = p.limit ?? rest.length;
  const data = rest.slice(0, limit);
  const nextCursor = rest.length > limit && data.length > 0 ? data[data.length - 1]! : null;
  return { result: { data, nextCursor } };
}
