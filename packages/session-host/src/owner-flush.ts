import { BusError, type Bus } from "@threadmesh/mesh";
import { ENVELOPE_VERSION, MeshMethod, encodeEnvelope, threadCommandSubject, type CommandEnvelope, type Origin } from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";

/** Longest wait for another host to store a thread's pending writes, in ms. */
const FLUSH_TIMEOUT_MS = 5_000;

/**
 * Asks the host holding a thread to store every write it issued for it so far, and waits for it. An owner
 * publishes events before the writes that follow them, so a read of the store from another host right
 * after an event (a fork from the turn that just completed) could miss them. Resolves at once when no host
 * holds the thread (the store is then complete); a timeout or a failed owner is logged and the read goes on.
 */
export async function flushOwner(bus: Bus, tenant: string, threadId: string, origin: Origin, logger: Logger): Promise<void> {
  const env: CommandEnvelope = { v: ENVELOPE_VERSION, tenant, method: MeshMethod.FlushThread, params: { threadId }, origin };
  try {
    await bus.request(threadCommandSubject(tenant, threadId), encodeEnvelope(env), { timeoutMs: FLUSH_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof BusError && err.kind === "noResponders") return;
    logger.warn({ err, threadId }, "the thread's owner did not confirm its writes; reading the store as it is");
  }
}
