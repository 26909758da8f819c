import { parsePlan, type Plan } from "@threadmesh/ratelimit";
import type { Selectable } from "kysely";
import type { PlansTable } from "./credit-tables.ts";

export function planToRow(p: Plan, nowMs: number): PlansTable {
  return {
    id: p.id,
    name: p.name,
    plan_type: p.planType,
    priority_class: p.priorityClass,
    unlimited: p.unlimited ? 1 : 0,
    primary_window_mins: p.primary?.windowMins ?? null,
    primary_budget: p.primary?.budget ?? null,
    secondary_window_mins: p.secondary?.windowMins ?? null,
    secondary_budget: p.secondary?.budget ?? null,
    max_turns_per_tenant: p.maxTurnsPerTenant,
    max_turns_per_user: p.maxTurnsPerUser,
    burst_per_key: p.burstPerKey,
    burst_per_tenant: p.burstPerTenant,
    updated_at_ms: nowMs,
  };
}

export function rowToPlan(r: Selectable<PlansTable>): Plan {
  const window = (mins: number | null, budget: number | null) => (mins === null || budget === null ? null : { windowMins: Number(mins), budget: Number(budget) });
  return parsePlan({
    id: r.id,
    name: r.name,
    planType: r.plan_type,
    priorityClass: Number(r.priority_class),
    unlimited: Number(r.unlimited) === 1,
    primary: window(r.primary_window_mins, r.primary_budget),
    secondary: window(r.secondary_window_mins, r.secondary_budget),
    maxTurnsPerTenant: Number(r.max_turns_per_tenant),
    maxTurnsPerUser: Number(r.max_turns_per_user),
    burstPerKey: Number(r.burst_per_key),
    burstPerTenant: Number(r.burst_per_tenant),
  });
}
