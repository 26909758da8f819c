import type { CommandEnvelope } from "@threadmesh/protocol";
import { canAnswer } from "../access/thread-access.ts";
import type { CommandOutcome } from "../command-outcome.ts";
import { connectionKey } from "../host-services.ts";
import { fullTurns } from "../store-reads.ts";
import type { ThreadActor } from "../thread-actor.ts";
import { RESUME_DEPRECATION, noRolloutError } from "../thread-errors.ts";
import { requesterNotification } from "../thread-events.ts";
import { announceGoal } from "./goal-handlers.ts";
import { overriddenSettings } from "../thread-settings.ts";
import { capThreadSettings } from "../policy/thread-policy.ts";
import { confineCwd } from "../policy/workspace-bounds.ts";
import { threadResumeResponse, toWireThread } from "../thread-view.ts";
import type { ThreadResumeParams } from "../params.ts";

/**
 * `thread/resume` of a loaded thread (a thread the host loaded for this resume arrives here too, after
 * its `thread/status/changed {idle}`). Applies and persists overrides, subscribes the requester and
 * answers with the history unless `excludeTurns`; the requester also gets the deprecation notice
 * before, the last token usage after, and every pending server request. A cwd override must lie in
 * the tenant's workspace root and policy overrides within its caps; stored values are checked when a
 * turn starts.
 */
export async function resumeLoaded(actor: ThreadActor, p: ThreadResumeParams, env: CommandEnvelope): Promise<CommandOutcome> {
  const r = actor.record;
  if (!r.materialized || r.ephemeral || r.archived) throw noRolloutError(actor.threadId);
  const policy = { caps: actor.services.policyCaps(actor.tenant), bounds: actor.services.workspaceBounds(actor.tenant) };
  const cwd = p.cwd ? confineCwd(policy.bounds, p.cwd) : r.cwd;
  const overridden = overriddenSettings(r.settings, p);
  const settings = p.approvalPolicy || p.sandbox || p.permissions ? capThreadSettings(policy, overridden) : overridden;
  actor.persistThread({ cwd, settings });
  actor.subscribers.add(connectionKey(env.origin));

  const includeTurns = p.excludeTurns !== true;
  let turns: Awaited<ReturnType<typeof fullTurns>> = [];
  if (includeTurns) {
    await actor.writer.flush();
  }
  // Everything published so far is reflected in what is read from here on.
  const lastSeq = actor.events.lastSeq;
  if (includeTurns) turns = await fullTurns(actor.services.store, actor.tenant, actor.threadId);
  const thread = toWireThread(actor.record, actor.status, true, turns);
  const before = includeTurns ? [requesterNotification("deprecationNotice", { summary: RESUME_DEPRECATION, details: null })] : [];
  const after: string[] = [];
  // Codex replays the thread's token usage with the history it hydrates, not to an `excludeTurns` resume.
  if (includeTurns && actor.record.tokenUsage && actor.lastTurnId) {
    after.push(requesterNotification("thread/tokenUsage/updated", { threadId: actor.threadId, turnId: actor.lastTurnId, tokenUsage: actor.record.tokenUsage }));
  }
  return {
    result: threadResumeResponse(actor.record, thread),
    before,
    after,
    subscribe: actor.threadId,
    lastSeq,
    // Server requests go to those who may answer them only.
    pendingRequests: canAnswer(actor.record, env.origin) ? actor.pending.list() : [],
    // Every subscriber, the earlier ones included, hears the thread's goal (or that it has none), as with Codex.
    afterReply: () => announceGoal(actor),
  };
}
