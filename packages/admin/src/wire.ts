import type { HostLoad } from "@threadmesh/mesh";
import type { ApiKeyRecord, BalanceView, TenantRecord, UsageTotals } from "@threadmesh/persistence";
import type { Plan, ReconcileReport } from "@threadmesh/ratelimit";

/** Store records as admin API messages (int64 as decimal strings, times in ms). */

const s = (n: number): string => String(n);

export function tenantMessage(t: TenantRecord) {
  return { id: t.id, name: t.name, plan: t.plan, priorityClass: t.priorityClass, status: t.status, createdAtMs: s(t.createdAt * 1000), updatedAtMs: s(t.updatedAt * 1000) };
}

export function apiKeyMessage(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenantId: k.tenantId,
    userId: k.userId ?? "",
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAtMs: s(k.createdAt * 1000),
    lastUsedAtMs: s((k.lastUsedAt ?? 0) * 1000),
    revokedAtMs: s((k.revokedAt ?? 0) * 1000),
  };
}

export function planMessage(p: Plan) {
  const w = (x: Plan["primary"]) => (x === null ? undefined : { windowMins: x.windowMins, budget: s(x.budget) });
  return {
    id: p.id,
    name: p.name,
    planType: p.planType,
    priorityClass: p.priorityClass,
    unlimited: p.unlimited,
    primary: w(p.primary),
    secondary: w(p.secondary),
    maxTurnsPerTenant: p.maxTurnsPerTenant,
    maxTurnsPerUser: p.maxTurnsPerUser,
    burstPerKey: p.burstPerKey,
    burstPerTenant: p.burstPerTenant,
  };
}

export function balanceMessage(b: BalanceView) {
  return {
    tenantId: b.tenantId,
    balance: s(b.balance),
    reserved: s(b.reserved),
    grants: b.grants.map((g) => ({ id: g.id, amount: s(g.amount), remaining: s(g.remaining), reserved: s(g.reserved), expiresAtMs: s(g.expiresAtMs), createdAtMs: s(g.createdAtMs) })),
    grantsRemaining: s(b.grants.reduce((sum, g) => sum + g.remaining, 0)),
  };
}

export function usageMessage(u: UsageTotals) {
  return {
    userId: u.userId,
    rounds: s(u.rounds),
    inputTokens: s(u.inputTokens),
    cachedInputTokens: s(u.cachedInputTokens),
    outputTokens: s(u.outputTokens),
    cost: s(u.cost),
    fromWindow: s(u.fromWindow),
    fromGrants: s(u.fromGrants),
    fromBalance: s(u.fromBalance),
    uncollected: s(u.uncollected),
  };
}

export function reconcileMessage(r: ReconcileReport) {
  return { tenantId: r.tenantId, ok: r.ok, problems: r.problems, usageEvents: s(r.totals.usageEvents), billed: s(r.totals.billed), balance: s(r.totals.balance), reservedInFlight: s(r.totals.reservedInFlight) };
}

export function hostMessage(h: HostLoad) {
  return { hostId: h.hostId, loadedThreads: h.loadedThreads, activeTurns: h.activeTurns, capacity: h.capacity, draining: h.draining, lastHeartbeatMs: s(h.at) };
}
