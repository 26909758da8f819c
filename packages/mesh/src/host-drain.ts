import { HostDrainReplySchema, HostDrainRequestSchema, TEXT_DECODER, TEXT_ENCODER, hostDrainSubject, type HostDrainReply } from "@threadmesh/protocol";
import type { Bus, Subscription } from "./bus.ts";
import { parseMessage } from "./parse-message.ts";

/** Longest wait for a host to acknowledge a drain request, in ms. */
const DRAIN_ACK_TIMEOUT_MS = 5_000;

/**
 * Asks one session host to drain (see `HostDrainRequestSchema`); resolves with its answer once draining
 * began. Rejects with `BusError` (`noResponders`: no such host on the bus) or on a malformed answer.
 */
export async function requestHostDrain(bus: Bus, hostId: string, deadlineMs: number): Promise<HostDrainReply> {
  const body = HostDrainRequestSchema.parse({ v: 1, deadlineMs });
  const reply = await bus.request(hostDrainSubject(hostId), TEXT_ENCODER.encode(JSON.stringify(body)), { timeoutMs: DRAIN_ACK_TIMEOUT_MS });
  return HostDrainReplySchema.parse(JSON.parse(TEXT_DECODER.decode(reply.data)));
}

/**
 * Answers drain requests for `hostId`: `drain(deadlineMs)` starts draining and returns the state to
 * report; malformed requests are reported to `onInvalid` and left unanswered.
 */
export function serveHostDrain(bus: Bus, hostId: string, drain: (deadlineMs: number) => HostDrainReply["state"], onInvalid: (reason: string) => void): Subscription {
  return bus.subscribe(hostDrainSubject(hostId), (msg) => {
    const r = parseMessage(msg.data, HostDrainRequestSchema);
    if (!r.ok) {
      onInvalid(r.reason);
      return;
    }
    const reply: HostDrainReply = { v: 1, hostId, state: drain(r.value.deadlineMs) };
    msg.respond(TEXT_ENCODER.encode(JSON.stringify(reply)));
  });
}
