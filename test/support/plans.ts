import type { Plan } from "@threadmesh/ratelimit";

/**
 * A limited "pro" plan for tests, with both windows and concurrency and burst limits high enough to stay
 * out of the way; `over` sets what a test is about.
 */
export function testPlan(id: string, over: Partial<Plan> = {}): Plan {
  return {
    id,
    name: `Plan ${id}`,
    planType: "pro",
    priorityClass: 3,
    unlimited: false,
    primary: { windowMins: 300, budget: 2_000 },
    secondary: { windowMins: 10_080, budget: 6_000 },
    maxTurnsPerTenant: 1_000,
    maxTurnsPerUser: 1_000,
    burstPerKey: 100_000,
    burstPerTenant: 100_000,
    ...over,
  };
}
