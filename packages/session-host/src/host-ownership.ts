import { claimOwner, ownerKey, ownerLapsed, type HostRegistry, type OwnerEntry, type OwnerLeases } from "@threadmesh/mesh";
import { OverloadedError } from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";

/** A live host holds the thread; the command belongs there. */
export class ThreadHeldError extends OverloadedError {
  readonly ownerHostId: string;
  constructor(threadId: string, ownerHostId: string, retryAfterMs: number) {
    super(retryAfterMs, "threadOwnerBusy", `thread ${threadId} is held by another session host; retry later`);
    this.ownerHostId = ownerHostId;
  }
}

interface Held {
  epoch: number;
  revision: number;
}

/**
 * This host's side of the owner entries: claims threads before loading them, gives them back on unload
 * (delete) or shutdown (released), and reports a thread whose entry another host moved.
 */
export class HostOwnership {
  readonly hostId: string;
  readonly #leases: OwnerLeases;
  readonly #hosts: HostRegistry;
  readonly #logger: Logger;
  readonly #held = new Map<string, Held>();
  #stopListening: (() => void) | null = null;

  constructor(opts: { hostId: string; leases: OwnerLeases; hosts: HostRegistry; logger: Logger }) {
    this.hostId = opts.hostId;
    this.#leases = opts.leases;
    this.#hosts = opts.hosts;
    this.#logger = opts.logger;
  }

  /** Starts following the entries; `onLost` runs for a held thread whose entry another host changed. */
  listen(onLost: (tenant: string, threadId: string) => void): void {
    this.#stopListening ??= this.#leases.onChange((tenant, threadId, entry, revision) => {
      const key = ownerKey(tenant, threadId);
      const held = this.#held.get(key);
      if (!held || revision <= held.revision) return;
      if (entry && entry.hostId === this.hostId && entry.epoch === held.epoch) {
        held.revision = revision;
        return;
      }
      this.#held.delete(key);
      onLost(tenant, threadId);
    });
  }

  stop(): void {
    this.#stopListening?.();
    this.#stopListening = null;
  }

  /** The stored entry of a thread. */
  owner(tenant: string, threadId: string): Promise<OwnerEntry | undefined> {
    return this.#leases.read(tenant, threadId);
  }

  /** True when `entry` names another host that still runs the thread. */
  heldElsewhere(entry: OwnerEntry): boolean {
    return !ownerLapsed(entry, this.#hosts, this.hostId);
  }

  /**
   * Claims a thread for this host and returns its epoch (at least `minEpoch`). Throws
   * {@link ThreadHeldError} while a live host holds it.
   */
  async claim(tenant: string, threadId: string, minEpoch: number): Promise<number> {
    const r = await claimOwner(this.#leases, this.#hosts, { tenant, threadId, hostId: this.hostId, minEpoch });
    if (r.kind === "held") throw new ThreadHeldError(threadId, r.entry.hostId, this.#hosts.leaseTtlMs);
    // A change the watch delivered before this claim settled is not replayed to the listener.
    const seen = this.#leases.cached(tenant, threadId);
    if (seen && seen.revision > r.entry.revision && (seen.hostId !== this.hostId || seen.epoch !== r.entry.epoch)) {
      throw new ThreadHeldError(threadId, seen.hostId, this.#hosts.leaseTtlMs);
    }
    this.#held.set(ownerKey(tenant, threadId), { epoch: r.entry.epoch, revision: r.entry.revision });
    return r.entry.epoch;
  }

  /** Deletes the entry of a thread this host unloaded, unless another host took it meanwhile. */
  async release(tenant: string, threadId: string): Promise<void> {
    const held = this.#take(tenant, threadId);
    if (!held) return;
    try {
      await this.#leases.remove(tenant, threadId, held.revision);
    } catch (err) {
      this.#logger.warn({ err, tenant, threadId }, "owner entry not removed");
    }
  }

  /** Marks the entry released: the thread stays loaded for its clients and the next host adopts it at once. */
  async handOver(tenant: string, threadId: string): Promise<void> {
    const held = this.#take(tenant, threadId);
    if (!held) return;
    try {
      await this.#leases.swap(tenant, threadId, { hostId: this.hostId, epoch: held.epoch, released: true }, held.revision);
    } catch (err) {
      this.#logger.warn({ err, tenant, threadId }, "owner entry not released");
    }
  }

  /** Forgets a thread this host let go of without touching its entry (lapsed lease, fenced write). */
  forget(tenant: string, threadId: string): void {
    this.#held.delete(ownerKey(tenant, threadId));
  }

  #take(tenant: string, threadId: string): Held | undefined {
    const key = ownerKey(tenant, threadId);
    const held = this.#held.get(key);
    this.#held.delete(key);
    return held;
  }
}
