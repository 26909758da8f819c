export { connect, ThreadmeshClient } from "./client.ts";
export type { ConnectOptions, RequestOptions, RetryOptions, UrlSource, ApprovalHandler, ConnectionState } from "./client.ts";
export { ThreadHandle } from "./thread.ts";
export type { ResyncEvent, TurnStartOptions } from "./thread.ts";
export { TurnHandle } from "./turn.ts";
export type { TurnEvent, TurnInput } from "./turn.ts";
export { ServerRequest } from "./server-requests.ts";
export type { ServerRequestOutcome } from "./server-requests.ts";
export {
  ThreadmeshError,
  RetryableError,
  QuotaError,
  ProtocolError,
  ConnectionLostError,
  ClientClosedError,
  ConnectError,
  AbortError,
  RETRYABLE_CODE,
} from "./errors.ts";
export { backoffDelay } from "./backoff.ts";
export type { BackoffOptions } from "./backoff.ts";
export { defaultSocketFactory, ticketSocketFactory } from "./socket.ts";
export type { WireSocket, SocketFactory } from "./socket.ts";
export { NOTIFICATION_METHODS } from "./notifications.ts";
export type {
  NotificationMap,
  NotificationMethod,
  ServerEvent,
  UnknownEvent,
  ServerRequestMap,
  ServerRequestMethod,
  ApprovalMethod,
  ApprovalDecision,
} from "./notifications.ts";
export type { MethodName, RequestParams, ResultOf, KnownResults, ThreadResponse, ReplayOutcome } from "./methods.ts";
