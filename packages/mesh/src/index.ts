export { BusError } from "./bus.ts";
export { InProcessBus } from "./in-process-bus.ts";
export { NatsBus } from "./nats-bus.ts";
export { logDeliveryError } from "./delivery-error.ts";

export type { Bus, BusHeaders, BusMessage, RequestOptions, SubscribeOptions, Subscription, MessageHandler } from "./bus.ts";
export type { InProcessBusOptions } from "./in-process-bus.ts";
export type { NatsBusOptions } from "./nats-bus.ts";
export type { DeliveryErrorListener } from "./delivery-error.ts";
