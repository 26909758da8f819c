import { ErrorCode, OverloadedError } from "./errors.ts";
import type { ReplyEnvelope } from "./envelopes.ts";

/**
 * Why a session host turned down a request sent to its own subject. A refusal is a -32001 reply whose
 * `data.reason` is one of these; the router then asks another host instead of answering the client.
 */
export const PlacementRefusal = {
  /** The host holds `maxThreads` threads. */
  AtCapacity: "hostAtCapacity",
  /** The host is shutting down. */
  Draining: "hostDraining",
  /** The host could not renew its heartbeat in time; it takes no work until it can. */
  LeaseLapsed: "hostLeaseLapsed",
  /** The tenant's threads on this host fill its quota (`maxThreadsPerTenant`) and none is idle. */
  TenantAtCapacity: "tenantThreadLimit",
} as const;
export type PlacementRefusal = (typeof PlacementRefusal)[keyof typeof PlacementRefusal];

const REASONS = new Set<string>(Object.values(PlacementRefusal));

/** The error a host replies with when it refuses; `retryAfterMs` is for the client if every host refuses. */
export function placementRefusal(reason: PlacementRefusal, retryAfterMs: number): OverloadedError {
  return new OverloadedError(retryAfterMs, reason, "session host cannot take this request");
}

/** The refusal `reply` carries, or undefined for any other reply. */
export function readRefusal(reply: ReplyEnvelope): { reason: PlacementRefusal; retryAfterMs: number } | undefined {
  if (reply.ok || reply.error.code !== ErrorCode.Overloaded) return undefined;
  const data = reply.error.data as { reason?: unknown; retryAfterMs?: unknown } | undefined;
  if (typeof data?.reason !== "string" || !REASONS.has(data.reason)) return undefined;
  return { reason: data.reason as PlacementRefusal, retryAfterMs: typeof data.retryAfterMs === "number" ? data.retryAfterMs : 0 };
}
