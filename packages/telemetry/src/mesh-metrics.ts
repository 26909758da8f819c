import type { Counter } from "prom-client";
import type { Metrics } from "./metrics.ts";

/**
 * Control-plane and replay instruments, named here once so the components that count them and the
 * Grafana dashboard (deploy/grafana) agree on names, labels and help text. Each side registers only its
 * own: a router process exposes no host series and the other way round. Label values are created at
 * zero so a dashboard's rate() sees the series before the first event.
 */
export interface HostMeshMetrics {
  /** `outcome`: accepted (this host took the thread) | refused (draining, full, or lost the claim). */
  readonly placements: Counter<"outcome">;
  /** Threads this host adopted from an owner whose lease expired. */
  readonly leaseTakeovers: Counter;
  /** Fenced writes the store rejected because a newer owner epoch holds the thread. */
  readonly staleEpochRejections: Counter;
  /** Notifications that travelled to routers inside a batch with others (one bus message per model read). */
  readonly eventsCoalesced: Counter;
  /** `outcome` of a turn found running when this host adopted its thread: continued | interrupted. */
  readonly turnsRecovered: Counter<"outcome">;
}

export interface RouterMeshMetrics {
  /** `outcome` of a `thread/resume` with `afterSeq`: recovered (the event window held the gap) | unrecovered (it had moved on). */
  readonly replay: Counter<"outcome">;
  /** `outcome` of reading back events a thread's live feed skipped (the bus lost them): recovered | unrecovered (followers closed to resume). */
  readonly gapFills: Counter<"outcome">;
}

export function hostMeshMetrics(m: Metrics): HostMeshMetrics {
  const placements = m.counter("tm_host_placements_total", "Placement requests answered by this session host, by outcome (accepted | refused)", ["outcome"]);
  for (const outcome of ["accepted", "refused"]) placements.inc({ outcome }, 0);
  const turnsRecovered = m.counter(
    "tm_host_turns_recovered_total",
    "Turns a lost owner left running, by what this host did with them when it adopted their thread (continued | interrupted)",
    ["outcome"],
  );
  for (const outcome of ["continued", "interrupted"]) turnsRecovered.inc({ outcome }, 0);
  return {
    turnsRecovered,
    placements,
    leaseTakeovers: m.counter("tm_host_lease_takeovers_total", "Threads this session host adopted after their owner's lease expired"),
    staleEpochRejections: m.counter("tm_host_stale_epoch_rejections_total", "Thread writes rejected because a newer owner epoch holds the thread"),
    eventsCoalesced: m.counter("tm_host_events_coalesced_total", "Notifications that travelled to routers inside a batch with others (one bus message per model read)"),
  };
}

export function routerMeshMetrics(m: Metrics): RouterMeshMetrics {
  const replay = m.counter("tm_router_replay_total", "Resumes with afterSeq, by whether the event window held the gap (recovered | unrecovered)", ["outcome"]);
  const gapFills = m.counter(
    "tm_router_gap_fills_total",
    "Gaps in a thread's live feed read back from the event log, by outcome (recovered | unrecovered: its followers were closed to resume)",
    ["outcome"],
  );
  for (const outcome of ["recovered", "unrecovered"]) {
    replay.inc({ outcome }, 0);
    gapFills.inc({ outcome }, 0);
  }
  return { replay, gapFills };
}

/** Both sides at once, for a process that is router and host (embedded mode) or a test. */
export function meshMetrics(m: Metrics): HostMeshMetrics & RouterMeshMetrics {
  return { ...hostMeshMetrics(m), ...routerMeshMetrics(m) };
}
