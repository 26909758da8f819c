import { JetStreamEventLog, MemoryEventLog, NatsBus, type Bus, type EventLog } from "@threadmesh/mesh";
import type { Config } from "./config.ts";

/**
 * The thread event window for this process: the JetStream stream on NATS (created or updated to the
 * configured window, so it exists before the first event is published), a ring per thread in one
 * process.
 */
export async function openEventLog(config: Config, bus: Bus): Promise<EventLog> {
  const window = { maxAgeMs: config.replayMaxAgeMs, maxEventsPerThread: config.replayMaxEvents };
  if (bus instanceof NatsBus) return JetStreamEventLog.open(bus.connection, { ...window, replicas: config.jetstreamReplicas });
  return new MemoryEventLog(bus, window);
}
