import type { Origin, Thread } from "@threadmesh/protocol";
import type { CommandOutcome } from "../command-outcome.ts";
import type { HostServices } from "../host-services.ts";
import type { ThreadRegistry } from "../thread-registry.ts";
import type { ThreadListParams, ThreadSearchParams } from "../params.ts";
import { listThreads } from "./list-handlers.ts";

/**
 * `thread/search` and `thread/search/stream`: the threads `thread/list` finds for the term (name and
 * preview), each with a snippet — the matching text. The stream form's `thread/search/partial` is sent
 * by the router, which knows the request id.
 */
export async function searchThreads(services: HostServices, registry: ThreadRegistry, tenant: string, p: ThreadSearchParams, origin?: Origin): Promise<CommandOutcome> {
  const term = p.searchTerm.trim();
  const listed = await listThreads(services, registry, tenant, { ...p, searchTerm: term } as ThreadListParams, origin);
  const page = listed.result as { data: Thread[]; nextCursor: string | null; backwardsCursor: string | null };
  const data = page.data.map((thread) => ({ thread, snippet: snippet(thread, term) }));
  return { result: { data, nextCursor: page.nextCursor, backwardsCursor: page.backwardsCursor } };
}

function snippet(thread: Thread, term: string): string {
  const lower = term.toLowerCase();
  for (const text of [thread.preview, thread.name]) if (text && text.toLowerCase().includes(lower)) return text;
  return thread.preview;
}
