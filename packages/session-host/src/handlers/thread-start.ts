import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ThreadRecord } from "@threadmesh/persistence";
import { newId, nowSeconds, type Origin } from "@threadmesh/protocol";
import type { CommandOutcome } from "../command-outcome.ts";
import { connectionKey, type HostServices } from "../host-services.ts";
import type { ThreadRegistry } from "../thread-registry.ts";
import { freshThreadState } from "../thread-loader.ts";
import { clientCwd, initialSettings } from "../thread-settings.ts";
import { THREAD_SOURCE, threadSessionResponse, toWireThread } from "../thread-view.ts";
import type { ThreadStartParams } from "../params.ts";

/**
 * `thread/start`: creates, stores and loads a thread, subscribes the requester, replies, then
 * broadcasts `thread/started`. Without a cwd the thread gets its own workspace
 * `<workspaceRoot>/<tenant>/<threadId>`; a relative cwd is rejected.
 */
export async function startThread(services: HostServices, registry: ThreadRegistry, tenant: string, p: ThreadStartParams, origin: Origin): Promise<CommandOutcome> {
  const id = newId();
  const cwd = p.cwd ? clientCwd(p.cwd) : await threadWorkspace(services.config.workspaceRoot, tenant, id);
  const now = nowSeconds();
  const record: ThreadRecord = {
    tenantId: tenant,
    id,
    forkedFromId: null,
    name: null,
    preview: "",
    cwd,
    ephemeral: p.ephemeral === true,
    archived: false,
    materialized: false,
    status: { type: "idle" },
    settings: initialSettings({ ...p, dynamicTools: p.dynamicTools as unknown[] | null | undefined }, services.config, services.modelConfig),
    tokenUsage: null,
    originator: origin.clientName,
    source: THREAD_SOURCE,
    createdAt: now,
    updatedAt: now,
    ownerEpoch: 1,
    lastSeq: 0,
  };
  await services.store.createThread(record);
  await services.ownership.claim(tenant, id, record.ownerEpoch);
  const actor = registry.adopt(freshThreadState(tenant, record));
  actor.subscribers.add(connectionKey(origin));
  const thread = toWireThread(record, actor.status, true);
  return {
    result: threadSessionResponse(record, thread),
    subscribe: id,
    afterReply: () => actor.events.notify("thread/started", { thread }),
  };
}

/** Creates (if needed) and returns the workspace of a thread started without a cwd. */
export async function threadWorkspace(root: string, tenant: string, threadId: string): Promise<string> {
  const dir = join(resolve(root), tenant, threadId);
  await mkdir(dir, { recursive: true });
  return dir;
}
