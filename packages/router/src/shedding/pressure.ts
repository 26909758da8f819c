import type { HostLoad } from "@threadmesh/mesh";

/** Event-loop lag of a host that counts as full pressure, in ms (its heartbeat timer that late). */
export const DEFAULT_LAG_BUDGET_MS = 250;
/** The model's time to first token that counts as full pressure, in ms (hosts' moving averages). */
export const DEFAULT_TTFT_BUDGET_MS = 10_000;

export interface PressureBudgets {
  lagBudgetMs?: number;
  ttftBudgetMs?: number;
}

/**
 * The mesh's pressure from its live hosts' heartbeats: 1 means at capacity. The larger of active turns
 * against capacity (summed over the hosts taking work) and {@link signalPressureOf}. Draining hosts take
 * no new turns and are left out; no host means no pressure.
 */
export function pressureOf(hosts: readonly HostLoad[], budgets: PressureBudgets = {}): number {
  const capacity = capacityOf(hosts);
  if (capacity <= 0) return 0;
  let turns = 0;
  for (const h of hosts) if (!h.draining) turns += h.activeTurns;
  return Math.max(turns / capacity, signalPressureOf(hosts, budgets));
}

/**
 * The pressure the hosts signal besides their turns: their mean event-loop lag against `lagBudgetMs`,
 * and the model's time to first token (the mean of the hosts that measured it) against `ttftBudgetMs`,
 * which rises as soon as the model's provider is saturated, before turns pile up.
 */
export function signalPressureOf(hosts: readonly HostLoad[], budgets: PressureBudgets = {}): number {
  const lagBudgetMs = budgets.lagBudgetMs ?? DEFAULT_LAG_BUDGET_MS;
  const ttftBudgetMs = budgets.ttftBudgetMs ?? DEFAULT_TTFT_BUDGET_MS;
  let lag = 0;
  let n = 0;
  let ttft = 0;
  let ttftHosts = 0;
  for (const h of hosts) {
    if (h.draining) continue;
    lag += h.eventLoopLagMs;
    n++;
    if (h.modelTtftMs !== undefined) {
      ttft += h.modelTtftMs;
      ttftHosts++;
    }
  }
  if (n === 0) return 0;
  return Math.max(lag / n / lagBudgetMs, ttftHosts === 0 ? 0 : ttft / ttftHosts / ttftBudgetMs);
}

/** Active turns against capacity alone (hosts taking work); 0 without capacity. */
export function turnLoadOf(hosts: readonly HostLoad[]): number {
  const capacity = capacityOf(hosts);
  if (capacity <= 0) return 0;
  let turns = 0;
  for (const h of hosts) if (!h.draining) turns += h.activeTurns;
  return turns / capacity;
}

/** Turns the hosts taking work run at once at most, when they report it; else their threads. */
export function capacityOf(hosts: readonly HostLoad[]): number {
  let capacity = 0;
  for (const h of hosts) {
    if (h.draining) continue;
    capacity += h.turnCapacity !== undefined && h.turnCapacity > 0 ? h.turnCapacity : h.capacity;
  }
  return capacity;
}

/**
 * Where the turns now being started take the hosts once the turns running now have ended (Little's
 * law): the rate of new turns (per ms) times how long a turn lasts, against capacity. Null while the
 * hosts report no turn length. A cut of a class shows here at the next heartbeat, where it shows in
 * the active turns only as the turns admitted before it end: a turn's length later.
 */
export function projectedTurnPressure(hosts: readonly HostLoad[], startsPerMs: number): number | null {
  let weighted = 0;
  let known = 0;
  for (const h of hosts) {
    if (h.draining || h.meanTurnMs === undefined) continue;
    weighted += h.meanTurnMs;
    known++;
  }
  const capacity = capacityOf(hosts);
  if (known === 0 || capacity <= 0) return null;
  return (startsPerMs * (weighted / known)) / capacity;
}
