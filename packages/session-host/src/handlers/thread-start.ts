import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ThreadRecord } from "@threadmesh/persistence";
import { newId, nowSeconds, type Origin } from "@threadmesh/protocol";
import type { CommandOutcome } from "../command-outcome.ts";
import { connectionKey, type HostServices } from "../host-services.ts";
import type { ThreadActor } from "../thread-actor.ts";
import type { ThreadRegistry } from "../thread-registry.ts";
import { freshThreadState } from "../thread-loader.ts";
import { initialSettings } from "../thread-settings.ts";
import { capThreadSettings } from "../policy/thread-policy.ts";
import { confineCwd } from "../policy/workspace-bounds.ts";
import { profileSandboxMode } from "../policy/permission-profiles.ts";
import { disabledTools } from "../tools/tool-features.ts";
import { THREAD_SOURCE, threadSessionResponse, toWireThread } from "../thread-view.ts";
import type { ThreadStartParams } from "../params.ts";
import { originUser } from "../access/thread-access.ts";

/**
 * `thread/start`: creates, stores and loads a thread, subscribes the requester, replies, then
 * broadcasts `thread/started`. Without a cwd the thread gets its own workspace
 * `<workspaceRoot>/<tenant>/<threadId>`; a given cwd (relative: to `<workspaceRoot>/<tenant>`) must be
 * an existing directory inside the tenant's workspace root, and the approval policy and sandbox within
 * the tenant's caps (else -32602 naming the field).
 */
export async function startThread(services: HostServices, registry: ThreadRegistry, tenant: string, p: ThreadStartParams, origin: Origin): Promise<CommandOutcome> {
  const id = newId();
  const policy = { caps: services.policyCaps(tenant), bounds: services.workspaceBounds(tenant) };
  // A built-in permission profile stands for the sandbox it names; the tenant's caps bound it alike.
  const profileMode = profileSandboxMode(p);
  const requested = initialSettings({ ...p, sandbox: profileMode ?? p.sandbox, dynamicTools: p.dynamicTools as unknown[] | null | undefined }, services.config, services.modelConfig);
  const disabled = disabledTools(p.config);
  const settings = capThreadSettings(policy, {
    ...requested,
    ...(profileMode ? { permissionProfile: p.permissions } : {}),
    ...(disabled.length > 0 ? { disabledTools: disabled } : {}),
  });
  const cwd = p.cwd ? confineCwd(policy.bounds, p.cwd) : join(policy.bounds.root, id);
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
    settings,
    tokenUsage: null,
    originator: origin.clientName,
    source: THREAD_SOURCE,
    createdAt: now,
    updatedAt: now,
    ownerEpoch: 1,
    lastSeq: 0,
    ownerUser: originUser(origin),
  };
  // Nobody knows the new id yet: the row, the owner entry and the workspace are made at once. Until the
  // thread is adopted, its entry names this host for a thread this host does not hold yet.
  const created = registry.creating(tenant, id);
  let actor: ThreadActor;
  try {
    const [stored, claimed, workspace] = await Promise.allSettled([
      services.store.createThread(record),
      services.ownership.claim(tenant, id, record.ownerEpoch),
      p.cwd ? Promise.resolve() : mkdir(cwd, { recursive: true }),
    ]);
    const failed = [stored, claimed, workspace].find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) {
      if (claimed.status === "fulfilled") await services.ownership.release(tenant, id).catch(() => undefined);
      throw failed.reason;
    }
    actor = registry.adopt(freshThreadState(tenant, record));
  } finally {
    created();
  }
  actor.subscribers.add(connectionKey(origin));
  const thread = toWireThread(record, actor.status, true);
  return {
    result: threadSessionResponse(record, thread),
    subscribe: id,
    afterReply: () => actor.events.notify("thread/started", { thread }),
  };
}
