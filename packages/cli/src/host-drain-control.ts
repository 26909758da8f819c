import { serveHostDrain, type Bus, type Subscription } from "@threadmesh/mesh";
import type { SessionHost } from "@threadmesh/session-host";
import type { Logger } from "@threadmesh/telemetry";
import { SETTLE_MS } from "./shutdown-budget.ts";

/**
 * Lets the admin API drain this session host over the bus: it stops taking new threads and turns,
 * running turns get the requested deadline, then are handed over. The process keeps serving its
 * loaded threads until it is stopped.
 */
export function serveDrainRequests(bus: Bus, host: SessionHost, logger: Logger): Subscription {
  return serveHostDrain(
    bus,
    host.hostId,
    (deadlineMs) => {
      if (host.state === "stopped") return "stopped";
      logger.info({ deadlineMs }, "draining at the admin API's request");
      host.drain({ deadlineMs, settleMs: SETTLE_MS }).catch((err: unknown) => logger.error({ err }, "drain failed"));
      return "draining";
    },
    (reason) => logger.warn({ reason }, "malformed drain request dropped"),
  );
}
