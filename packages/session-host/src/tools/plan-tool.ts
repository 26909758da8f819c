import { z } from "zod";
import { ToolArgumentError } from "./tool-argument-error.ts";

/** One step of the plan as the protocol spells it. */
export interface PlanStep {
  step: string;
  status: "pending" | "inProgress" | "completed";
}

/** Parsed `update_plan` arguments. */
export interface PlanArgs {
  explanation: string | null;
  plan: PlanStep[];
}

const WIRE_STATUS = { pending: "pending", in_progress: "inProgress", inProgress: "inProgress", completed: "completed" } as const;

const PlanArgsSchema = z.object({
  explanation: z.string().nullish(),
  plan: z.array(
    z.object({
      step: z.string(),
      status: z.enum(["pending", "in_progress", "inProgress", "completed"], {
        error: 'expected one of "pending", "in_progress", "completed"',
      }),
    }),
  ),
});

/**
 * Parses the `arguments` JSON of Codex's `update_plan` call, mapping `in_progress` to `inProgress`.
 * @throws ToolArgumentError with a message meant for the model.
 */
export function parsePlanArgs(argumentsJson: string): PlanArgs {
  let raw: unknown;
  try {
    raw = JSON.parse(argumentsJson);
  } catch (err) {
    throw new ToolArgumentError(`failed to parse function arguments: ${(err as Error).message}`, { cause: err });
  }
  const parsed = PlanArgsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    throw new ToolArgumentError(`invalid update_plan arguments: ${issues.join("; ")}`);
  }
  return {
    explanation: parsed.data.explanation ?? null,
    plan: parsed.data.plan.map((p) => ({ step: p.step, status: WIRE_STATUS[p.status] })),
  };
}
