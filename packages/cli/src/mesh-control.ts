import { InProcessBus, MemoryHostRegistry, MemoryOwnerLeases, type Bus, type HostRegistry, type OwnerLeases } from "@threadmesh/mesh";
import type { NatsBus } from "@threadmesh/mesh/nats";
import type { Config } from "./config.ts";

/** The mesh control plane of one process: live hosts and thread owners, watched. */
export interface MeshControl {
  hosts: HostRegistry;
  owners: OwnerLeases;
  close(): Promise<void>;
}

/**
 * Opens the host registry and owner entries for this process: JetStream KV buckets on NATS, one shared
 * in-memory copy in one process (embedded mode, where router and host use the same instances).
 * Resolves once both caches hold what is stored.
 */
export async function openMeshControl(config: Config, bus: Bus, onError: (err: unknown) => void): Promise<MeshControl> {
  let hosts: HostRegistry;
  let owners: OwnerLeases;
  let control: NatsBus | null = null;
  // The NATS client loads only for a process on NATS.
  const nats = bus instanceof InProcessBus ? null : await import("@threadmesh/mesh/nats");
  if (nats && bus instanceof nats.NatsBus) {
    const { KvHostRegistry, KvOwnerLeases, NatsBus } = nats;
    // A connection of its own: heartbeats and owner writes must not queue behind a host's event flood
    // on the data connection, or a busy host would miss its own lease.
    control = await NatsBus.connect({ servers: config.natsUrl.split(","), name: "threadmesh-control" });
    // `servers`: a session host keeps its lease from a worker thread on a connection of its own.
    hosts = await KvHostRegistry.open(control.connection, { leaseTtlMs: config.leaseTtlMs, replicas: config.jetstreamReplicas, onError, servers: config.natsUrl.split(",") });
    owners = await KvOwnerLeases.open(control.connection, { replicas: config.jetstreamReplicas, onError });
  } else {
    hosts = new MemoryHostRegistry({ leaseTtlMs: config.leaseTtlMs });
    owners = new MemoryOwnerLeases();
  }
  await Promise.all([hosts.start(), owners.start()]);
  return {
    hosts,
    owners,
    async close() {
      await Promise.all([hosts.close(), owners.close()]);
      await control?.close();
    },
  };
}
