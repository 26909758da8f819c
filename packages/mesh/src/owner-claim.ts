import type { HostRegistry } from "./host-registry.ts";
import type { OwnerEntry, OwnerLeases } from "./owner-leases.ts";

/** How a claim ended: this host owns the thread now, or a live host holds it. */
export type ClaimOutcome = { kind: "claimed"; entry: OwnerEntry } | { kind: "held"; entry: OwnerEntry };

export interface ClaimRequest {
  tenant: string;
  threadId: string;
  hostId: string;
  /** Lowest acceptable epoch: the store's epoch plus one (or 1 for a new thread). */
  minEpoch: number;
}

/** Compare-and-swap rounds before a claim that keeps losing races gives up and reports the holder. */
const MAX_ROUNDS = 4;

/**
 * True when the entry's host can no longer act on the thread: it released it, or its heartbeat
 * lapsed. An entry naming `self` counts too: this host does not hold the thread (or it would not ask).
 */
export function ownerLapsed(entry: OwnerEntry, hosts: HostRegistry, self?: string, now = Date.now()): boolean {
  return entry.released || entry.hostId === self || !hosts.isAlive(entry.hostId, now);
}

/**
 * Claims a thread for `hostId`: creates the entry when there is none, or takes a lapsed owner's entry
 * over with a higher epoch. The new epoch exceeds both the entry's and `minEpoch`, so the store fences
 * the previous owner. Refuses (`held`) while the recorded owner is alive.
 */
export async function claimOwner(leases: OwnerLeases, hosts: HostRegistry, req: ClaimRequest): Promise<ClaimOutcome> {
  const { tenant, threadId, hostId } = req;
  let current = await leases.read(tenant, threadId);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (current === undefined) {
      const created = await leases.create(tenant, threadId, { hostId, epoch: Math.max(1, req.minEpoch), released: false });
      if (created) return { kind: "claimed", entry: created };
    } else {
      if (!ownerLapsed(current, hosts, hostId)) return { kind: "held", entry: current };
      const epoch = Math.max(current.epoch + 1, req.minEpoch);
      const swapped = await leases.swap(tenant, threadId, { hostId, epoch, released: false }, current.revision);
      if (swapped) return { kind: "claimed", entry: swapped };
    }
    current = await leases.read(tenant, threadId);
  }
  if (current !== undefined) return { kind: "held", entry: current };
  throw new Error(`could not claim thread ${threadId}: its owner entry keeps changing`);
}
