import type { HostLoad } from "@threadmesh/mesh";

/** Event-loop lag of a host that counts as full pressure, in ms (its heartbeat timer that late). */
export const DEFAULT_LAG_BUDGET_MS = 250;

/**
 * The mesh's pressure from its live hosts' heartbeats: 1 means at capacity. The larger of active turns
 * against capacity (summed over the hosts taking work) and the hosts' mean event-loop lag against
 * `lagBudgetMs`. Draining hosts take no new turns and are left out; no host means no pressure.
 */
export function pressureOf(hosts: readonly HostLoad[], lagBudgetMs = DEFAULT_LAG_BUDGET_MS): number {
  let turns = 0;
  let capacity = 0;
  let lag = 0;
  let n = 0;
  for (const h of hosts) {
    if (h.draining) continue;
    turns += h.activeTurns;
    // Turns weigh against the turns a host runs at most, when it reports them; else its threads.
    capacity += h.turnCapacity !== undefined && h.turnCapacity > 0 ? h.turnCapacity : h.capacity;
    lag += h.eventLoopLagMs;
    n++;
  }
  if (n === 0 || capacity <= 0) return 0;
  return Math.max(turns / capacity, lag / n / lagBudgetMs);
}
