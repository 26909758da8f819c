import type { BusMessage, MessageHandler } from "./bus.ts";

/**
 * Receives errors that arise while delivering messages and have no caller to go back to: a handler that
 * threw or rejected (the bus drops that message and keeps delivering) or, on NATS, a subscription the
 * server ended (e.g. a permissions violation). Must not throw.
 */
export type DeliveryErrorListener = (err: unknown, subject: string) => void;

/** Default {@link DeliveryErrorListener}: one line on stderr. */
export const logDeliveryError: DeliveryErrorListener = (err, subject) => {
  console.error(`bus delivery on ${subject} failed:`, err);
};

/** Calls a handler so that nothing it throws or rejects escapes into the delivery loop. */
export function invokeHandler(handler: MessageHandler, msg: BusMessage, onError: DeliveryErrorListener): void {
  try {
    // The declared return type is void, but an async handler is assignable to it.
    const r: unknown = handler(msg);
    if (r instanceof Promise) r.catch((err: unknown) => reportDeliveryError(onError, err, msg.subject));
  } catch (err) {
    reportDeliveryError(onError, err, msg.subject);
  }
}

export function reportDeliveryError(onError: DeliveryErrorListener, err: unknown, subject: string): void {
  try {
    onError(err, subject);
  } catch {
    // A failing listener must not stop delivery either.
  }
}
