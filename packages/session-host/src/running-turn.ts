import type { EventLog } from "@threadmesh/mesh";
import type { ThreadStore } from "@threadmesh/persistence";

/**
 * True when a thread's owner stopped with a turn running: the store's last turn is still in progress,
 * or the newest event the window holds was published while a turn ran. Events go out before the
 * writes that follow them, so a host killed right after starting a turn can leave clients that saw it
 * start and a store that never heard of it; only the window knows. A turn that outlived the window
 * (minutes without an event) is still in the store.
 */
export async function hasRunningTurn(store: ThreadStore, log: EventLog | undefined, tenant: string, threadId: string): Promise<boolean> {
  const [last, tail] = await Promise.all([store.listTurns(tenant, threadId, { limit: 1, sortDirection: "desc" }), log?.tail(tenant, threadId) ?? null]);
  return last.data[0]?.status === "inProgress" || (tail !== null && tail.activeTurn !== null);
}
