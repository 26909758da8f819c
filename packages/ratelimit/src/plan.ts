import { z } from "zod";
import type { MicroCredits } from "./money.ts";

/** One usage window of a plan: how much usage (priced, in micro-credits) the plan covers per window. */
export interface PlanWindow {
  windowMins: number;
  budget: MicroCredits;
}

/**
 * What a tenant's plan allows. Windows are usage the plan includes (Codex's primary and secondary
 * limits); beyond them a round is paid from grants, then from purchased credits.
 */
export interface Plan {
  id: string;
  name: string;
  /** Codex `PlanType` shown to clients (`free`, `plus`, `pro`, `team`, `business`, `enterprise`, …). */
  planType: string;
  /** Shedding order under load: a higher class is refused last (0 to 9). */
  priorityClass: number;
  /**
   * Usage is neither limited nor charged: the plan covers every round (the ledgers still record each
   * round's usage and cost, as covered by the plan). Windows, if any, are only reported.
   */
  unlimited: boolean;
  /** Usually 5 h (300 min); null when the plan has none. */
  primary: PlanWindow | null;
  /** Usually 7 days (10,080 min); null when the plan has none. */
  secondary: PlanWindow | null;
  /** Turns running at once for the whole tenant, and for one user of it. */
  maxTurnsPerTenant: number;
  maxTurnsPerUser: number;
  /** Requests (turn/start, turn/steer) per second per API key, and per tenant. */
  burstPerKey: number;
  burstPerTenant: number;
}

export const PRIMARY_WINDOW_MINS = 5 * 60;
export const SECONDARY_WINDOW_MINS = 7 * 24 * 60;

const positive = z.number().int().positive().max(2_147_483_647);
const WindowSchema = z.strictObject({ windowMins: positive, budget: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

export const PlanSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "plan id must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' or '-'"),
  name: z.string().min(1).max(256),
  planType: z.string().min(1).max(64),
  priorityClass: z.number().int().min(0).max(9),
  unlimited: z.boolean(),
  primary: WindowSchema.nullable(),
  secondary: WindowSchema.nullable(),
  maxTurnsPerTenant: positive,
  maxTurnsPerUser: positive,
  burstPerKey: positive,
  burstPerTenant: positive,
});

/** Validates a plan, throwing a zod error naming every bad field. */
export function parsePlan(v: unknown): Plan {
  return PlanSchema.parse(v);
}

/** The plan tenants get unless given another (`default`): unlimited, generous concurrency and burst limits. */
export const DEFAULT_PLAN: Plan = Object.freeze({
  id: "default",
  name: "Default",
  planType: "unknown",
  priorityClass: 1,
  unlimited: true,
  primary: null,
  secondary: null,
  maxTurnsPerTenant: 1_000,
  maxTurnsPerUser: 1_000,
  burstPerKey: 1_000,
  burstPerTenant: 1_000,
});
