import type { ThreadRecord } from "@threadmesh/persistence";
import { MeshMethod, MethodNotFoundError, ThreadNotFoundError, nowSeconds, type CommandEnvelope } from "@threadmesh/protocol";
import { threadAudience, visibleRecord } from "../access/thread-access.ts";
import type { CommandOutcome } from "../command-outcome.ts";
import type { HostServices } from "../host-services.ts";
import { emptyThreadNameError, noArchivedRolloutError, noRolloutError, threadNotLoadedError } from "../thread-errors.ts";
import { ThreadEvents } from "../thread-events.ts";
import { toWireThread } from "../thread-view.ts";
import { listItems, listTurns, readThread, type ReadSource } from "./read-handlers.ts";
import { requestedSharing } from "./share-handler.ts";
import { updateReadState } from "./read-state.ts";

const NOT_LOADED = { type: "notLoaded" } as const;

/**
 * Serves a thread command for a thread no host holds, from the store alone: reads, name, archive,
 * unarchive, delete, unsubscribe (`notLoaded`). Turn methods need a loaded thread (`thread not found`).
 * Broadcasts for such threads continue the stored sequence under the stored epoch.
 */
export async function serveUnloaded(services: HostServices, tenant: string, env: CommandEnvelope): Promise<CommandOutcome> {
  const p = (env.params ?? {}) as { threadId: string; name?: string };
  const id = p.threadId;
  const store = services.store;
  // A thread the sender may not see is answered as an unknown one.
  const getThread = async (threadId: string) => visibleRecord(await store.getThread(tenant, threadId), env.origin);
  switch (env.method) {
    case "thread/read":
    case "thread/turns/list":
    case "thread/items/list": {
      const record = await getThread(id);
      if (!record || !record.materialized) throw threadNotLoadedError(id);
      const src: ReadSource = { store, tenant, record, status: NOT_LOADED, loaded: false };
      if (env.method === "thread/read") return readThread(src, env.params as never, env.origin);
      if (env.method === "thread/turns/list") return listTurns(src, env.params as never);
      return listItems(src, env.params as never);
    }
    case "thread/readState/update":
      if (!(await getThread(id))) throw new ThreadNotFoundError(id);
      return updateReadState(store, tenant, env.origin, env.params as never);
    case "thread/name/set": {
      if ((p.name ?? "").trim() === "") throw emptyThreadNameError();
      const record = await getThread(id);
      if (!record) throw new ThreadNotFoundError(id);
      await store.updateThread(tenant, id, record.ownerEpoch, { name: p.name!, updatedAt: nowSeconds() });
      return { result: {}, afterReply: () => broadcast(services, tenant, record, "thread/name/updated", { threadId: id, threadName: p.name }, false) };
    }
    case "thread/archive": {
      const record = await getThread(id);
      if (!record || !record.materialized || record.ephemeral || record.archived) throw noRolloutError(id);
      await store.updateThread(tenant, id, record.ownerEpoch, { archived: true, updatedAt: nowSeconds() });
      return { result: {}, afterReply: () => broadcast(services, tenant, record, "thread/archived", { threadId: id }, true) };
    }
    case "thread/unarchive": {
      const record = await getThread(id);
      if (!record || !record.archived) throw noArchivedRolloutError(id);
      const updatedAt = nowSeconds();
      await store.updateThread(tenant, id, record.ownerEpoch, { archived: false, updatedAt });
      const thread = toWireThread({ ...record, archived: false, updatedAt }, NOT_LOADED, false);
      return { result: { thread }, afterReply: () => broadcast(services, tenant, record, "thread/unarchived", { threadId: id }, false) };
    }
    case "thread/delete": {
      const record = await getThread(id);
      if (!record || !record.materialized) throw noRolloutError(id);
      await store.deleteThread(tenant, id);
      return { result: {}, afterReply: () => void new ThreadEvents(eventOpts(services, tenant, record)).notify("thread/deleted", { threadId: id }, true) };
    }
    case "thread/share/set": {
      const record = await getThread(id);
      if (!record) throw new ThreadNotFoundError(id);
      const sharing = requestedSharing(record, env.params as never, env);
      await store.updateThread(tenant, id, record.ownerEpoch, { ...sharing, updatedAt: nowSeconds() });
      return { result: sharing };
    }
    case "thread/unsubscribe":
      return { result: { status: "notLoaded" } };
    // Goals live with the loaded thread and terminals never outlast a turn: an unloaded thread has neither.
    case "thread/goal/get":
    case "thread/goal/clear":
    case "thread/backgroundTerminals/list":
    case "thread/backgroundTerminals/clean":
    case "thread/backgroundTerminals/terminate": {
      if (!(await getThread(id))) throw new ThreadNotFoundError(id);
      const empty = { "thread/goal/get": { goal: null }, "thread/goal/clear": { cleared: false }, "thread/backgroundTerminals/list": { data: [], nextCursor: null }, "thread/backgroundTerminals/clean": {}, "thread/backgroundTerminals/terminate": { terminated: false } };
      return { result: empty[env.method] };
    }
    case "thread/resume":
      throw noRolloutError(id);
    case "thread/goal/set":
    case "turn/start":
    case "turn/steer":
    case "turn/interrupt":
      throw new ThreadNotFoundError(id);
    case MeshMethod.RespondServerRequest:
      return { result: { accepted: false } };
    case MeshMethod.ConnectionClosed:
    case MeshMethod.FlushThread:
      return { result: {} };
    case MeshMethod.RecentEvents:
      return { result: { events: [] } };
    default:
      throw new MethodNotFoundError(env.method);
  }
}

/** Publishes one broadcast for a stored thread and records the sequence number it used. */
async function broadcast(services: HostServices, tenant: string, record: ThreadRecord, method: string, params: unknown, drop: boolean): Promise<void> {
  const events = new ThreadEvents(eventOpts(services, tenant, record));
  events.notify(method, params, drop);
  await services.store.updateThread(tenant, record.id, record.ownerEpoch, { lastSeq: events.lastSeq });
}

function eventOpts(services: HostServices, tenant: string, record: ThreadRecord) {
  return {
    bus: services.bus,
    tenant,
    threadId: record.id,
    epoch: record.ownerEpoch,
    lastSeq: record.lastSeq,
    audience: () => threadAudience(record),
    onPublishError: (err: unknown) => services.logger.warn({ err, threadId: record.id }, "event publish failed"),
  };
}
