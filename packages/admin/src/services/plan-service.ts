import type * as grpc from "@grpc/grpc-js";
import { DEFAULT_PLAN, PlanSchema } from "@threadmesh/ratelimit";
import { PlanIdSchema } from "@threadmesh/protocol";
import { z } from "zod";
import { Int64, unary, type HandlerContext } from "../unary.ts";
import { planMessage } from "../wire.ts";
import { planOrNotFound, type AdminDeps } from "./admin-deps.ts";

const WireWindow = z.object({ windowMins: z.number(), budget: Int64 });
/** The wire plan: absent windows are null, then the rate limiter's own schema decides. */
const Put = z.object({
  plan: z
    .object({
      id: z.string(),
      name: z.string(),
      planType: z.string(),
      priorityClass: z.number(),
      unlimited: z.boolean(),
      primary: WireWindow.optional(),
      secondary: WireWindow.optional(),
      maxTurnsPerTenant: z.number(),
      maxTurnsPerUser: z.number(),
      burstPerKey: z.number(),
      burstPerTenant: z.number(),
    }, { error: "plan is required" })
    .transform(({ primary, secondary, ...rest }) => ({ ...rest, primary: primary ?? null, secondary: secondary ?? null }))
    .pipe(PlanSchema),
});
const Get = z.object({ id: PlanIdSchema });

/** PlanService: put (create or replace), get, list. The built-in `default` plan is listed until replaced. */
export function planService(ctx: HandlerContext, deps: AdminDeps): grpc.UntypedServiceImplementation {
  return {
    PutPlan: unary(ctx, "PutPlan", Put, async (r) => {
      await deps.credits.putPlan(r.plan);
      return planMessage(r.plan);
    }),
    GetPlan: unary(ctx, "GetPlan", Get, async (r) => planMessage(await planOrNotFound(deps, r.id))),
    ListPlans: unary(ctx, "ListPlans", z.object({}), async () => {
      const plans = await deps.credits.listPlans();
      if (!plans.some((p) => p.id === DEFAULT_PLAN.id)) plans.unshift(DEFAULT_PLAN);
      return { plans: plans.map(planMessage) };
    }),
  };
}
