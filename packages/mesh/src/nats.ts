// The NATS door of the mesh: the bus, the host registry, the owner leases and the event log on NATS and
// JetStream. Apart from the transport-neutral door (`@threadmesh/mesh`) so that a process on the
// in-process bus never loads the NATS client.
export { NatsBus } from "./nats-bus.ts";
export { KvHostRegistry, DEFAULT_HOSTS_BUCKET } from "./kv-host-registry.ts";
export { KvOwnerLeases, DEFAULT_OWNERS_BUCKET } from "./kv-owner-leases.ts";
export { JetStreamEventLog } from "./jetstream-event-log.ts";

export type { NatsBusOptions } from "./nats-bus.ts";
export type { KvHostRegistryOptions } from "./kv-host-registry.ts";
export type { KvOwnerLeasesOptions } from "./kv-owner-leases.ts";
export type { JetStreamEventLogOptions } from "./jetstream-event-log.ts";
