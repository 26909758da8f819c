// The transport-neutral door: the bus interface, the in-process bus and the in-memory tables. What runs
// on NATS (and loads its client) is behind `@threadmesh/mesh/nats`, so that one process never loads it.
export { BusError } from "./bus.ts";
export { InProcessBus } from "./in-process-bus.ts";
export { SpannedMessage, TracedMessage, tracedBus } from "./traced-bus.ts";
export { logDeliveryError } from "./delivery-error.ts";

export type { Bus, BusHeaders, BusMessage, RequestOptions, SubscribeOptions, Subscription, MessageHandler } from "./bus.ts";
export type { InProcessBusOptions } from "./in-process-bus.ts";
export type { DeliveryErrorListener } from "./delivery-error.ts";
export { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_LEASE_TTL_MS } from "./host-registry.ts";
export { MemoryHostRegistry } from "./memory-host-registry.ts";
export { ownerKey, parseOwnerKey } from "./owner-leases.ts";
export { MemoryOwnerLeases } from "./memory-owner-leases.ts";
export { claimOwner, ownerLapsed } from "./owner-claim.ts";

export type { HostLoad, HostRegistry, KeepLeaseOptions } from "./host-registry.ts";
export { LeaseKeeper } from "./lease-keeper.ts";
export type { KeptLoad, LeaseKeeperOptions } from "./lease-keeper.ts";
export type { OwnerRecord, OwnerEntry, OwnerChange, OwnerLeases } from "./owner-leases.ts";
export type { ClaimOutcome, ClaimRequest } from "./owner-claim.ts";
export { MemoryEventLog } from "./memory-event-log.ts";
export { DEFAULT_REPLAY_WINDOW, seqRange } from "./event-log.ts";
export type { EventLog, EventTail, LoggedEvent, ReplayWindow } from "./event-log.ts";
export { publishCredentialEvent, subscribeCredentialEvents } from "./credential-events.ts";
export type { CredentialChange } from "./credential-events.ts";
export { requestHostDrain, serveHostDrain } from "./host-drain.ts";
