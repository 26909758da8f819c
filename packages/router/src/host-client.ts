import type { Bus, BusMessage } from "@threadmesh/mesh";
import {
  InternalError,
  LimitReason,
  OverloadedError,
  RpcError,
  decodeEnvelope,
  encodeEnvelope,
  placeSubject,
  requestDeadline,
  threadCommandSubject,
  type CommandEnvelope,
  type ReplyEnvelope,
} from "@threadmesh/protocol";
import { context, traceHeaders } from "@threadmesh/telemetry";
import type { HostRouting } from "./host-routing.ts";

/** `retryAfterMs` suggested when no session host is subscribed at all. */
const NO_HOST_RETRY_AFTER_MS = 1_000;

/** `retryAfterMs` suggested when a session host did not answer in time. */
const HOST_TIMEOUT_RETRY_AFTER_MS = 1_000;

/** Longest part of the wait for a host's reply kept for the reply's way back, in ms. */
const REPLY_MARGIN_MS = 1_000;

/**
 * The deadline budget a command carries when the router waits `timeoutMs` for its reply: the wait less
 * the time the reply needs to reach the router (at most {@link REPLY_MARGIN_MS}, a quarter of short
 * waits), so that work a host starts in time is answered before the router gives up on it.
 */
export function hostBudgetMs(timeoutMs: number): number {
  return timeoutMs - Math.min(REPLY_MARGIN_MS, Math.floor(timeoutMs / 4));
}

/**
 * The host did not answer within the request timeout: -32001 with `data.reason: "hostTimeout"`. The
 * command may still have taken effect; a client that retries a `thread/start` may get a second thread.
 */
export class HostTimeoutError extends OverloadedError {
  constructor() {
    super(HOST_TIMEOUT_RETRY_AFTER_MS, LimitReason.HostTimeout, "session host did not answer in time; retry later");
    this.name = "HostTimeoutError";
  }
}

/** Where a command goes: the placement group, or the owner of a thread (placement group when none). */
export type HostTarget =
  | { readonly route: "place" }
  /** `fallback: false` skips the placement group when no host holds the thread (notices only the owner needs). */
  | { readonly route: "thread"; readonly threadId: string; readonly fallback?: boolean };

/** Failure modes of the bus, told apart by `kind` as the mesh package defines them. */
function busErrorKind(err: unknown): "noResponders" | "timeout" | "closed" | undefined {
  if (typeof err !== "object" || err === null || (err as { name?: unknown }).name !== "BusError") return undefined;
  const kind = (err as { kind?: unknown }).kind;
  return kind === "noResponders" || kind === "timeout" || kind === "closed" ? kind : undefined;
}

/**
 * Sends command envelopes to session hosts over the bus and returns their reply envelopes. Bus failures
 * become wire errors here: timeout and no host → -32001 with `retryAfterMs`, a closed bus → -32603.
 */
export class HostClient {
  readonly #bus: Bus;
  readonly #timeoutMs: number;
  readonly #routing: HostRouting | undefined;

  /** With `routing`, hosts are chosen from the mesh control plane; without, NATS subjects alone decide. */
  constructor(bus: Bus, timeoutMs: number, routing?: HostRouting) {
    this.#bus = bus;
    this.#timeoutMs = timeoutMs;
    this.#routing = routing;
  }

  /**
   * Sends `env` with a deadline ({@link hostBudgetMs} of the request timeout) and waits up to the
   * timeout for its reply; a host refuses with -32001 `deadlineExceeded` work it could no longer start
   * in time, and no reply by the timeout answers -32001 `hostTimeout`.
   */
  async request(env: CommandEnvelope, target: HostTarget): Promise<ReplyEnvelope> {
    const now = Date.now();
    const deadline = now + this.#timeoutMs;
    const sent: CommandEnvelope = { ...env, deadline: requestDeadline(hostBudgetMs(this.#timeoutMs), now) };
    const data = encodeEnvelope(sent);
    // The caller's span (the client request's) becomes the parent of the host's, through W3C headers.
    const headers = traceHeaders(context.active());
    let msg: BusMessage;
    try {
      if (this.#routing !== undefined) {
        msg = await this.#routing.send(sent, data, target, headers);
      } else if (target.route === "thread") {
        try {
          msg = await this.#bus.request(threadCommandSubject(sent.tenant, target.threadId), data, { timeoutMs: this.#timeoutMs, headers });
        } catch (err) {
          // No host holds the thread: a placement host serves it from the store or loads it.
          if (busErrorKind(err) !== "noResponders" || target.fallback === false) throw err;
          const timeoutMs = Math.max(1, deadline - Date.now());
          msg = await this.#bus.request(placeSubject(env.tenant), data, { timeoutMs, headers });
        }
      } else {
        msg = await this.#bus.request(placeSubject(env.tenant), data, { timeoutMs: this.#timeoutMs, headers });
      }
    } catch (err) {
      throw wireError(err);
    }
    try {
      return decodeEnvelope<ReplyEnvelope>(msg.data);
    } catch (err) {
      throw new InternalError("invalid reply from session host", { cause: err });
    }
  }
}

function wireError(err: unknown): Error {
  if (err instanceof RpcError) return err;
  switch (busErrorKind(err)) {
    case "timeout":
      return new HostTimeoutError();
    case "noResponders":
      return new OverloadedError(NO_HOST_RETRY_AFTER_MS, "noSessionHost", "no session host available; retry later");
    case "closed":
      return new InternalError("message bus unavailable", { cause: err });
    default:
      return new InternalError("session host request failed", { cause: err });
  }
}
