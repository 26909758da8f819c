import type { LoggedEvent } from "@threadmesh/mesh";
import { ENVELOPE_VERSION, MeshMethod, TEXT_ENCODER, type CommandEnvelope, type RecentEventsParams, type RecentEventsResult } from "@threadmesh/protocol";
import type { OwnerEventsReader } from "./gap-fill.ts";
import type { HostClient } from "./host-client.ts";

/** Reads a thread's newest events from its owner (`mesh/thread/recentEvents`); none when no host holds it. */
export function ownerEventsReader(hosts: HostClient, routerId: string): OwnerEventsReader {
  return async (tenant, threadId, afterSeq) => {
    const params: RecentEventsParams = { threadId, afterSeq };
    const env: CommandEnvelope = {
      v: ENVELOPE_VERSION,
      tenant,
      method: MeshMethod.RecentEvents,
      params,
      origin: { routerId, connId: "", experimentalApi: false, clientName: "", clientVersion: "" },
    };
    const reply = await hosts.request(env, { route: "thread", threadId, fallback: false });
    if (!reply.ok) return [];
    const events = (reply.result as Partial<RecentEventsResult> | null)?.events;
    if (!Array.isArray(events)) return [];
    return events.map((e): LoggedEvent => ({ subject: e.subject, headers: e.headers, data: TEXT_ENCODER.encode(e.data) }));
  };
}
