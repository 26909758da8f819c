import { CREDENTIAL_EVENTS_SUBJECT, CredentialEventSchema, TEXT_ENCODER, type CredentialEvent } from "@threadmesh/protocol";
import type { Bus, Subscription } from "./bus.ts";
import { parseMessage } from "./parse-message.ts";

/** A credential event as its publisher gives it (the envelope version is added here). */
export type CredentialChange = CredentialEvent extends infer E ? (E extends unknown ? Omit<E, "v"> : never) : never;

/**
 * Tells every router that a key was revoked or a tenant suspended or resumed: call it after the store
 * change. Resolves once the message reached the bus server (NATS) or every subscriber (in-process);
 * routers then drop cached credentials and close the connections they authenticated.
 */
export async function publishCredentialEvent(bus: Bus, change: CredentialChange): Promise<void> {
  const event = CredentialEventSchema.parse({ v: 1, ...change });
  bus.publish(CREDENTIAL_EVENTS_SUBJECT, TEXT_ENCODER.encode(JSON.stringify(event)));
  await bus.flush();
}

/** Calls `onEvent` for every valid credential event; malformed ones go to `onInvalid`. */
export function subscribeCredentialEvents(bus: Bus, onEvent: (e: CredentialEvent) => void, onInvalid: (reason: string) => void): Subscription {
  return bus.subscribe(CREDENTIAL_EVENTS_SUBJECT, (msg) => {
    const r = parseMessage(msg.data, CredentialEventSchema);
    if (r.ok) onEvent(r.value);
    else onInvalid(r.reason);
  });
}
