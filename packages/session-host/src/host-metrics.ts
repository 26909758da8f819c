import type { Counter, Histogram } from "prom-client";
import { hostMeshMetrics, type HostMeshMetrics, type Metrics } from "@threadmesh/telemetry";
import { resolveDynamicToolName } from "./tools/tool-specs.ts";

/** Token kinds of `tm_model_tokens_total`; `input` counts every input token, cached ones included. */
export type TokenKind = "input" | "cached_input" | "output" | "reasoning_output";

/** `tool` label values: the built-in tools by name, client-declared ones as `dynamic`, anything else `unknown`. */
export type ToolLabel = "shell" | "apply_patch" | "update_plan" | "dynamic" | "unknown";
/** completed (output went back to the model) | cancelled (the client chose cancel) | interrupted (the turn ended first) | error (threw). */
export type ToolOutcomeLabel = "completed" | "cancelled" | "interrupted" | "error";

/** The session host's model and tool instruments, plus its control-plane ones. */
export interface HostMetrics {
  /** From sending a model request to its first content (text, reasoning or function call). */
  readonly modelTtft: Histogram;
  /** `outcome`: ok | error | aborted. */
  readonly modelStream: Histogram<"outcome">;
  readonly modelTokens: Counter<"kind">;
  readonly toolCalls: Counter<"tool" | "outcome">;
  /** Times this host found its own lease lapsed and let go of every thread. */
  readonly leaseLapses: Counter;
  readonly mesh: HostMeshMetrics;
}

/** Model latencies reach tens of seconds; the default buckets stop at 10 s. */
const MODEL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];

const byRegistry = new WeakMap<Metrics, HostMetrics>();

/** The host instruments of a registry, created once per registry (turns ask for them on every event). */
export function hostMetrics(m: Metrics): HostMetrics {
  let hm = byRegistry.get(m);
  if (!hm) {
    const modelTokens = m.counter("tm_model_tokens_total", "Model tokens used, by kind (input includes cached_input)", ["kind"]);
    for (const kind of ["input", "cached_input", "output", "reasoning_output"] satisfies TokenKind[]) modelTokens.inc({ kind }, 0);
    hm = {
      modelTtft: m.histogram("tm_model_ttft_seconds", "Time from sending a model request to its first streamed content", [], MODEL_BUCKETS),
      modelStream: m.histogram("tm_model_stream_seconds", "Duration of model requests from send to end of stream, by outcome (ok | error | aborted)", ["outcome"], MODEL_BUCKETS),
      modelTokens,
      toolCalls: m.counter("tm_host_tool_calls_total", "Tool calls executed for the model, by tool and outcome", ["tool", "outcome"]),
      leaseLapses: m.counter("tm_host_lease_lapses_total", "Times this session host's own lease lapsed and it let go of every thread"),
      mesh: hostMeshMetrics(m),
    };
    byRegistry.set(m, hm);
  }
  return hm;
}

/** The `tool` label of a call, resolved in the order calls are dispatched (built-ins first). */
export function toolLabel(name: string, dynamicTools: unknown[]): ToolLabel {
  if (name === "shell" || name === "apply_patch" || name === "update_plan") return name;
  return resolveDynamicToolName(name, dynamicTools) ? "dynamic" : "unknown";
}
