import type * as grpc from "@grpc/grpc-js";
import { requestHostDrain } from "@threadmesh/mesh";
import { z } from "zod";
import { notFound } from "../admin-errors.ts";
import { unary, type HandlerContext } from "../unary.ts";
import { hostMessage } from "../wire.ts";
import type { AdminDeps } from "./admin-deps.ts";

const DEFAULT_DRAIN_DEADLINE_MS = 10_000;
const Drain = z.object({
  hostId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "hostId must be 1 to 128 characters of A-Z, a-z, 0-9, '_' or '-'"),
  deadlineMs: z.number().int().min(0, "deadlineMs must not be negative").max(600_000, "deadlineMs must be at most 600000"),
});

/** HostService: live session hosts and their load; asking one to drain. */
export function hostService(ctx: HandlerContext, deps: AdminDeps): grpc.UntypedServiceImplementation {
  return {
    ListHosts: unary(ctx, "ListHosts", z.object({}), async () => ({ hosts: deps.hosts.live().sort((a, b) => (a.hostId < b.hostId ? -1 : 1)).map(hostMessage) })),
    DrainHost: unary(ctx, "DrainHost", Drain, async (r) => {
      if (!deps.hosts.isAlive(r.hostId)) throw notFound(`no live session host ${JSON.stringify(r.hostId)}`);
      const reply = await requestHostDrain(deps.bus, r.hostId, r.deadlineMs === 0 ? DEFAULT_DRAIN_DEADLINE_MS : r.deadlineMs);
      return { hostId: reply.hostId, draining: true };
    }),
  };
}
