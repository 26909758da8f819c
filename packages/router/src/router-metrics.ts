import type { Counter, Gauge, Histogram } from "prom-client";
import { createSheddingMetrics, type SheddingMetrics } from "./shedding/shedding-metrics.ts";
import { routerMeshMetrics, type Metrics, type RouterMeshMetrics } from "@threadmesh/telemetry";

/** The router's instruments, registered once on the process registry. */
export interface RouterMetrics {
  readonly connections: Gauge;
  readonly framesIn: Counter;
  readonly framesOut: Counter;
  /** `outcome`: ok | error | timeout. */
  readonly requestDuration: Histogram<"method" | "outcome">;
  /** `reason`: staleEpoch (an event from a superseded owner). Slow consumers lose nothing. */
  readonly outboundDropped: Counter<"reason">;
  /** Delta frames merged into the one before them for a connection that was behind. */
  readonly outboundCoalesced: Counter;
  /** Connections closed with 1013 because they did not keep up; `cause`: grace | totalCap. */
  readonly slowConsumerCloses: Counter<"cause">;
  /** Outbound bytes held for every connection together, and the cap on them; set at each scrape. */
  readonly outboundBytes: Gauge;
  readonly outboundLimit: Gauge;
  /** New thread owners whose first event was numbered at or below a seq already delivered (an owner bug). */
  readonly seqRegressions: Counter;
  /** `reason`: outboundFull (over its cap past the grace period) | outboundTotalFull (the router's total cap) | frameTooLarge | draining. */
  readonly connectionsClosed: Counter<"reason">;
  /** `stat`: sum | max over open connections, sampled at each scrape. */
  readonly outboundBuffered: Gauge<"stat">;
  /** Replay counters (names shared with the dashboard, see @threadmesh/telemetry). */
  readonly mesh: RouterMeshMetrics;
  /** Load shedding of new turns by priority class. */
  readonly shedding: SheddingMetrics;
}

export function createRouterMetrics(m: Metrics): RouterMetrics {
  return {
    connections: m.gauge("tm_router_connections", "Open WebSocket connections"),
    framesIn: m.counter("tm_router_frames_in_total", "WebSocket frames received from clients"),
    framesOut: m.counter("tm_router_frames_out_total", "WebSocket frames written to clients"),
    requestDuration: m.histogram("tm_router_request_duration_seconds", "Client request latency at the router, by method and outcome", [
      "method",
      "outcome",
    ]),
    outboundDropped: m.counter("tm_router_outbound_dropped_total", "Events not delivered to a connection, by reason", ["reason"]),
    seqRegressions: m.counter(
      "tm_router_seq_regressions_total",
      "New thread owners whose first event was numbered at or below a seq already delivered here (their events are taken for repeats)",
    ),
    outboundCoalesced: m.counter(
      "tm_router_outbound_coalesced_total",
      "Delta frames merged into the previous delta of the same item because the connection was behind (the text is kept whole)",
    ),
    slowConsumerCloses: m.counter("tm_router_slow_consumer_closes_total", "Connections closed with 1013 for not keeping up, by cause (grace | totalCap)", ["cause"]),
    outboundBytes: m.gauge("tm_router_outbound_bytes", "Outbound bytes held for all connections together (backlogs, socket buffers, events held for joins)"),
    outboundLimit: m.gauge("tm_router_outbound_limit_bytes", "Cap on tm_router_outbound_bytes; beyond it the largest backlogs are closed"),
    connectionsClosed: m.counter("tm_router_connections_closed_total", "Connections the router closed, by reason", ["reason"]),
    outboundBuffered: m.gauge("tm_router_outbound_buffered_bytes", "Outbound bytes buffered per connection (sum and max)", ["stat"]),
    mesh: routerMeshMetrics(m),
    shedding: createSheddingMetrics(m),
  };
}
