import { z } from "zod";

/**
 * Admin → one session host: stop taking new threads and turns, give running turns `deadlineMs` to
 * finish, then hand them over. Core NATS request on {@link hostDrainSubject}; the host answers with a
 * {@link HostDrainReply} once draining has begun (not when it ends).
 */
export const HostDrainRequestSchema = z.strictObject({
  v: z.literal(1),
  deadlineMs: z.number().int().min(0).max(600_000),
});
export type HostDrainRequest = z.infer<typeof HostDrainRequestSchema>;

export const HostDrainReplySchema = z.strictObject({
  v: z.literal(1),
  hostId: z.string().min(1).max(256),
  /** The host's state after the request: `draining`, or `stopped` when it was already shutting down. */
  state: z.enum(["draining", "stopped"]),
});
export type HostDrainReply = z.infer<typeof HostDrainReplySchema>;

/** Subject a session host listens on for drain requests (outside the tenant-scoped `tm.v1.` tree). */
export function hostDrainSubject(hostId: string): string {
  return `tm.ctl.v1.drain.${hostId}`;
}
