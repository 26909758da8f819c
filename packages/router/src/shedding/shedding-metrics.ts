import type { Counter, Gauge } from "prom-client";
import type { Metrics } from "@threadmesh/telemetry";

/** The router's shedding instruments. */
export interface SheddingMetrics {
  /** New turns refused by shedding, by priority class. */
  readonly shed: Counter<"class">;
  /** The mesh's pressure at the last step (1 = at capacity). */
  readonly pressure: Gauge;
  /** Share of each priority class's new turns admitted. */
  readonly admittedFraction: Gauge<"class">;
}

export function createSheddingMetrics(m: Metrics): SheddingMetrics {
  return {
    shed: m.counter("tm_router_turns_shed_total", "New turns (turn/start) refused by load shedding, by priority class", ["class"]),
    pressure: m.gauge("tm_router_shedding_pressure", "Pressure of the session hosts as this router sees it (1 = at capacity: active turns against capacity, event-loop lag)"),
    admittedFraction: m.gauge("tm_router_shedding_admitted_fraction", "Share of new turns admitted, by priority class (0 = shed, 1 = all admitted)", ["class"]),
  };
}
