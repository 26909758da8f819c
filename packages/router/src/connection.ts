import { encodeNotification, encodeServerRequest, type Origin } from "@threadmesh/protocol";
import { CLOSE_TRY_AGAIN_LATER, isDroppableDelta, overflowReason, type OutboundPolicy } from "./outbound-policy.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import { ServerRequestMap } from "./server-request-map.ts";
import type { ConnectionInfo, TransportLink } from "./transport.ts";

/** A connection's subscription to one thread. */
export interface Membership {
  readonly conn: Connection;
  readonly threadId: string;
  /** `tm-s` of the last event of this thread written to (or deliberately filtered for) the connection. */
  lastSeq: string | undefined;
  /** Highest seq of this thread handed to the connection: an event at or below it (seen in a replay already) is not sent again. */
  delivered: number;
}

/** Codex sends no `serverRequest/resolved` for dynamic tool calls. */
const NO_RESOLVED_NOTIFICATION = "item/tool/call";
const RESOLVED = "serverRequest/resolved";

/**
 * One client connection: handshake state, capabilities, thread subscriptions, server-request ids and
 * the outbound side with the slow-consumer policy ({@link OutboundPolicy}). Owned by the processor.
 */
export class Connection {
  readonly id: string;
  readonly tenant: string;
  readonly info: ConnectionInfo;
  readonly memberships = new Map<string, Membership>();
  readonly requests = new ServerRequestMap();
  initialized = false;
  experimentalApi = false;
  clientName = "";
  clientVersion = "";
  /** Notification methods this connection opted out of; null when none. */
  optOut: ReadonlySet<string> | null = null;
  /** Host requests awaiting a reply. */
  inflight = 0;
  #open = true;
  readonly #link: TransportLink;
  readonly #policy: OutboundPolicy;
  readonly #metrics: RouterMetrics;

  constructor(init: { id: string; link: TransportLink; info: ConnectionInfo; policy: OutboundPolicy; metrics: RouterMetrics }) {
    this.id = init.id;
    this.info = init.info;
    this.tenant = init.info.principal.tenant;
    this.#link = init.link;
    this.#policy = init.policy;
    this.#metrics = init.metrics;
  }

  /** False once the connection is closing or closed; nothing more is written. */
  get open(): boolean {
    return this.#open;
  }

  get bufferedBytes(): number {
    return this.#link.bufferedBytes;
  }

  /** Who sends commands on behalf of this connection. */
  origin(routerId: string): Origin {
    return { routerId, connId: this.id, experimentalApi: this.experimentalApi, clientName: this.clientName, clientVersion: this.clientVersion };
  }

  /**
   * Writes a notification frame under the slow-consumer policy. Returns true when the frame was
   * written or filtered by opt-out (the client is up to date), false when it was dropped.
   */
  deliverEvent(frame: Uint8Array | string, method: string): boolean {
    if (!this.#open) return false;
    if (this.optOut !== null && this.optOut.has(method)) return true;
    const buffered = this.#link.bufferedBytes;
    if (buffered > this.#policy.highWaterBytes) {
      if (buffered > this.#policy.maxBytes) {
        this.#overflow();
        return false;
      }
      if (isDroppableDelta(method)) {
        this.#metrics.outboundDropped.inc({ reason: "slowConsumer" });
        return false;
      }
    }
    this.#link.send(frame);
    return true;
  }

  /** Writes a response, error or server request: never dropped; over the limit the connection closes. */
  sendControl(frame: string): void {
    if (!this.#open) return;
    if (this.#link.bufferedBytes > this.#policy.maxBytes) {
      this.#overflow();
      return;
    }
    this.#link.send(frame);
  }

  /** A notification addressed to this connection alone (e.g. `before`/`after` frames of a reply). */
  sendOwnNotification(frame: string): void {
    if (this.optOut !== null) {
      const method = notificationMethod(frame);
      if (method !== undefined && this.optOut.has(method)) return;
    }
    this.sendControl(frame);
  }

  /** Relays a server request with this connection's next id, unless the connection already holds it. */
  sendServerRequest(threadId: string, requestKey: string, method: string, paramsJson: string): void {
    if (!this.#open) return;
    const id = this.requests.add(threadId, requestKey, method);
    if (id !== undefined) this.sendControl(encodeServerRequest(id, method, paramsJson));
  }

  /** A server request was resolved: tell the client with its own id and forget the mapping. */
  resolveServerRequest(threadId: string, requestKey: string, method: string | undefined, extra: Record<string, number> | undefined): void {
    const entry = this.requests.take(threadId, requestKey);
    if (entry === undefined || !this.#open) return;
    if ((method ?? entry.method) === NO_RESOLVED_NOTIFICATION) return;
    if (this.optOut !== null && this.optOut.has(RESOLVED)) return;
    this.sendControl(encodeNotification(RESOLVED, { threadId, requestId: entry.id }, extra));
  }

  /** Closes the connection; the transport reports `closed` when it is gone. */
  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    this.#link.close(code, reason);
  }

  /** Flushes queued frames at once (before a close initiated elsewhere). */
  flush(): void {
    this.#link.flush();
  }

  /** The transport is gone. */
  markClosed(): void {
    this.#open = false;
  }

  #overflow(): void {
    const seqs: Array<string | undefined> = [];
    for (const m of this.memberships.values()) seqs.push(m.lastSeq);
    this.#metrics.connectionsClosed.inc({ reason: "outboundFull" });
    this.close(CLOSE_TRY_AGAIN_LATER, overflowReason(seqs));
  }
}

const METHOD_PREFIX = /^\{\s*"method"\s*:\s*"((?:[^"\\]|\\.)*)"/;
/** The method of a serialised notification, read from its leading `"method"` member without parsing it all. */
function notificationMethod(frame: string): string | undefined {
  return METHOD_PREFIX.exec(frame)?.[1];
}
