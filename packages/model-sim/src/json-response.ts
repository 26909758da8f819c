import type { ServerResponse } from "node:http";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { failureDetails } from "./failure-details.ts";
import { sendApiError, sendJson } from "./http-json.ts";
import type { StreamOutcome } from "./model-sim.ts";
import { ResponseEvents } from "./response-events.ts";
import type { ResponsePlan } from "./response-plan.ts";

/**
 * Answers a request without `stream: true`: the final Response object, or the scripted failure (`error`
 * becomes an HTTP 500, `failed` a Response with status `failed`).
 */
export async function jsonResponse(res: ServerResponse, plan: ResponsePlan, signal: AbortSignal): Promise<StreamOutcome> {
  try {
    if (plan.ttftMs > 0) await sleep(plan.ttftMs, undefined, { signal });
    const fail = plan.fail;
    const events = new ResponseEvents(plan);
    let outcome: StreamOutcome = "completed";
    if (!fail) {
      sendJson(res, 200, events.finalResponse("completed"));
    } else if (fail.kind === "cut") {
      res.destroy();
      return "cut";
    } else if (fail.kind === "hang") {
      if (!signal.aborted) await once(signal, "abort");
      return "disconnected";
    } else {
      const d = failureDetails(fail);
      if (fail.kind === "incomplete") {
        sendJson(res, 200, { ...events.finalResponse("incomplete"), incomplete_details: { reason: fail.code ?? "max_output_tokens" }, usage: plan.usage });
        outcome = "incomplete";
      } else if (fail.kind === "failed") {
        sendJson(res, 200, { ...events.finalResponse("failed"), error: { code: d.code, message: d.message } });
        outcome = "failed";
      } else {
        sendApiError(res, fail.kind === "http" ? d.status : 500, d, d.headers);
        outcome = "error";
      }
    }
    return await finished(res).then(
      () => outcome,
      () => "disconnected" as const,
    );
  } catch (err) {
    if (signal.aborted) return "disconnected";
    throw err;
  }
}
