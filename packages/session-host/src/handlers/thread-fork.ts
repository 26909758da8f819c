import type { ThreadRecord } from "@threadmesh/persistence";
import { InvalidRequestError, newId, nowSeconds, type Origin } from "@threadmesh/protocol";
import type { CommandOutcome } from "../command-outcome.ts";
import { connectionKey, type HostServices } from "../host-services.ts";
import { fullTurns } from "../store-reads.ts";
import { flushOwner } from "../owner-flush.ts";
import { RESUME_DEPRECATION, noRolloutError } from "../thread-errors.ts";
import { requesterNotification } from "../thread-events.ts";
import { claimStoredThread } from "../thread-loader.ts";
import type { ThreadActor } from "../thread-actor.ts";
import type { ThreadRegistry } from "../thread-registry.ts";
import { overriddenSettings } from "../thread-settings.ts";
import { capThreadSettings } from "../policy/thread-policy.ts";
import { confineCwd } from "../policy/workspace-bounds.ts";
import { THREAD_SOURCE, threadSessionResponse, toWireThread } from "../thread-view.ts";
import type { ThreadForkParams } from "../params.ts";
import { canSee, originUser } from "../access/thread-access.ts";

/**
 * `thread/fork`: copies a stored (or loaded) thread's history through `lastTurnId` into a new thread,
 * loads it and subscribes the requester. The fork inherits name, preview and token usage; a turn the
 * source was still running is recorded as interrupted with a `<turn_aborted>` marker. Response →
 * replayed `thread/tokenUsage/updated` (requester) → `thread/started` (broadcast).
 */
export async function forkThread(services: HostServices, registry: ThreadRegistry, tenant: string, p: ThreadForkParams, origin: Origin): Promise<CommandOutcome> {
  if (p.ephemeral === true && p.excludeTurns !== true) {
    throw new InvalidRequestError("ephemeral paginated thread/fork requires `excludeTurns: true`");
  }
  const store = services.store;
  let live = registry.get(tenant, p.threadId);
  if (live?.closed) {
    await live.unload();
    live = undefined;
  }
  // The source's owner publishes before it stores: its writes so far are stored before they are copied.
  if (live) await live.writer.flush();
  else await flushOwner(services.bus, tenant, p.threadId, origin, services.logger);
  const source = live?.record ?? (await store.getThread(tenant, p.threadId));
  if (!source || !canSee(source, origin) || !source.materialized || source.ephemeral || source.archived) throw noRolloutError(p.threadId);
  if (p.lastTurnId) {
    const turn = await store.getTurn(tenant, source.id, p.lastTurnId);
    if (!turn) throw new InvalidRequestError(`turn not found: ${p.lastTurnId}`);
    if (turn.status === "inProgress") throw new InvalidRequestError(`turn ${p.lastTurnId} is still in progress`);
  }

  const policy = { caps: services.policyCaps(tenant), bounds: services.workspaceBounds(tenant) };
  const cwd = p.cwd ? confineCwd(policy.bounds, p.cwd) : source.cwd;
  const overridden = overriddenSettings(source.settings, p);
  const settings = p.approvalPolicy || p.sandbox || p.permissions ? capThreadSettings(policy, overridden) : overridden;
  const id = newId();
  const now = nowSeconds();
  const record: ThreadRecord = {
    tenantId: tenant,
    id,
    forkedFromId: source.id,
    name: source.name,
    preview: source.preview,
    cwd,
    ephemeral: p.ephemeral === true,
    archived: false,
    materialized: true,
    status: { type: "idle" },
    settings,
    tokenUsage: source.tokenUsage,
    originator: origin.clientName,
    source: THREAD_SOURCE,
    createdAt: now,
    updatedAt: now,
    ownerEpoch: 0,
    lastSeq: 0,
    ownerUser: originUser(origin),
  };
  // Until the fork is adopted, its owner entry names this host for a thread this host does not hold yet.
  const created = registry.creating(tenant, id);
  let actor: ThreadActor;
  try {
    await store.createThread(record);
    await store.copyThreadContent(tenant, source.id, id, p.lastTurnId ?? null);
    const epoch = await services.ownership.claim(tenant, id, record.ownerEpoch + 1);
    actor = registry.adopt(await claimStoredThread(store, tenant, record, { abandonedTurnError: null, epoch }));
  } finally {
    created();
  }
  actor.subscribers.add(connectionKey(origin));

  const turns = p.excludeTurns === true ? [] : await fullTurns(store, tenant, id);
  const thread = toWireThread(actor.record, actor.status, true, turns);
  const after: string[] = [];
  if (actor.record.tokenUsage && actor.lastTurnId) {
    after.push(requesterNotification("thread/tokenUsage/updated", { threadId: id, turnId: actor.lastTurnId, tokenUsage: actor.record.tokenUsage }));
  }
  // As Codex: a fork that hydrates history is preceded by the same deprecation notice as a resume.
  const before = p.excludeTurns === true ? [] : [requesterNotification("deprecationNotice", { summary: RESUME_DEPRECATION, details: null })];
  return {
    result: threadSessionResponse(actor.record, thread),
    before,
    after,
    subscribe: id,
    afterReply: () => actor.events.notify("thread/started", { thread: toWireThread(actor.record, actor.status, true) }),
  };
}
