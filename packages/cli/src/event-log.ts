import { InProcessBus, MemoryEventLog, type Bus, type EventLog } from "@threadmesh/mesh";
import type { Config } from "./config.ts";

/**
 * The thread event window for this process: the JetStream stream on NATS (created or updated to the
 * configured window, so it exists before the first event is published), a ring per thread in one
 * process.
 */
export async function openEventLog(config: Config, bus: Bus): Promise<EventLog> {
  const window = { maxAgeMs: config.replayMaxAgeMs, maxEventsPerThread: config.replayMaxEvents };
  // The NATS client loads only for a process on NATS.
  const nats = bus instanceof InProcessBus ? null : await import("@threadmesh/mesh/nats");
  if (nats && bus instanceof nats.NatsBus) return nats.JetStreamEventLog.open(bus.connection, { ...window, replicas: config.jetstreamReplicas });
  return new MemoryEventLog(bus, window);
}
