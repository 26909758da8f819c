import { DEFAULT_PRIORITY_CLASS } from "@threadmesh/persistence";
import { encodeNotification, encodeServerRequest, type Origin } from "@threadmesh/protocol";
import type { OutboundBudget } from "./outbound-budget.ts";
import { CLOSE_TRY_AGAIN_LATER, overflowReason, type OutboundPolicy } from "./outbound-policy.ts";
import { OutboundQueue, type ShedCause } from "./outbound-queue.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import { principalIsAdmin } from "./auth/principal-access.ts";
import { ServerRequestMap } from "./server-request-map.ts";
import type { ConnectionInfo, TransportLink } from "./transport.ts";

/** A connection's subscription to one thread. */
export interface Membership {
  readonly conn: Connection;
  readonly threadId: string;
  /** `tm-s` of the last event of this thread queued for (or deliberately filtered for) the connection. */
  lastSeq: string | undefined;
  /** Highest seq of this thread handed to the connection: an event at or below it (seen in a replay already) is not sent again. */
  delivered: number;
}

/** How long a shed slow consumer gets to take its close frame before its socket is destroyed. */
const SHED_DROP_AFTER_MS = 2_000;

/** Codex sends no `serverRequest/resolved` for dynamic tool calls. */
const NO_RESOLVED_NOTIFICATION = "item/tool/call";
const RESOLVED = "serverRequest/resolved";

/**
 * One client connection: handshake state, capabilities, thread subscriptions, server-request ids and
 * the outbound side with the slow-consumer policy ({@link OutboundPolicy}, {@link OutboundQueue}). Owned
 * by the processor.
 */
export class Connection {
  readonly id: string;
  readonly tenant: string;
  /** The tenant's priority class at the upgrade: which new turns are shed first under load. */
  readonly priorityClass: number;
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
  readonly #out: OutboundQueue;
  readonly #metrics: RouterMetrics;
  /** Fixed at the upgrade: the principal sees every thread of its tenant. */
  readonly #admin: boolean;

  constructor(init: { id: string; link: TransportLink; info: ConnectionInfo; policy: OutboundPolicy; budget: OutboundBudget; metrics: RouterMetrics }) {
    this.id = init.id;
    this.info = init.info;
    this.tenant = init.info.principal.tenant;
    this.priorityClass = init.info.principal.priorityClass ?? DEFAULT_PRIORITY_CLASS;
    this.#admin = principalIsAdmin(init.info.principal);
    this.#link = init.link;
    this.#metrics = init.metrics;
    this.#out = new OutboundQueue({
      link: init.link,
      policy: init.policy,
      budget: init.budget,
      metrics: init.metrics,
      onShed: (unwritten, cause) => this.#shed(unwritten, cause),
    });
  }

  /** False once the connection is closing or closed; nothing more is written. */
  get open(): boolean {
    return this.#open;
  }

  /** Outbound bytes held for this connection (backlog, socket buffer, events held while joining). */
  get bufferedBytes(): number {
    return this.#out.outboundBytes();
  }

  /** True while the connection is behind and its frames wait in the backlog. */
  get behind(): boolean {
    return this.#out.behind;
  }

  /** Counts bytes of events held for this connection while it joins a thread; negative releases them. */
  countHeld(bytes: number): void {
    this.#out.countHeld(bytes);
  }

  /**
   * The connection may receive a broadcast of a thread whose audience (header `tm-v`, see
   * `EventHeader.Audience`, parsed) is `audience`: administrators and listed users; everyone when absent.
   */
  mayReceive(audience: ReadonlySet<string> | undefined): boolean {
    if (audience === undefined || this.#admin) return true;
    const user = this.info.principal.user;
    return user !== undefined && audience.has(user);
  }

  /**
   * The connection may be sent (and answer) a thread's server requests whose answerers (header `tm-w`,
   * see `EventHeader.Answerers`, parsed) are `answerers`: its user, or `null` for a user-less credential,
   * must be listed; everyone when absent. Administrators are not answerers unless listed.
   */
  mayAnswer(answerers: ReadonlySet<string | null> | undefined): boolean {
    return answerers === undefined || answerers.has(this.info.principal.user ?? null);
  }

  /** Who sends commands on behalf of this connection. */
  origin(routerId: string): Origin {
    const { user, keyId } = this.info.principal;
    return {
      routerId,
      connId: this.id,
      experimentalApi: this.experimentalApi,
      clientName: this.clientName,
      clientVersion: this.clientVersion,
      ...(user === undefined ? {} : { user }),
      admin: this.#admin,
      ...(keyId === undefined ? {} : { keyId }),
    };
  }

  /**
   * Queues a thread or broadcast notification frame, as bytes; never drops it. `threadId` and `seq`
   * place it in a followed thread's order. Returns false only when the connection is closed.
   */
  deliverEvent(frame: Uint8Array | string, method: string, threadId?: string, seq = NaN): boolean {
    if (!this.#open) return false;
    if (this.optOut !== null && this.optOut.has(method)) return true;
    this.#out.write(frame, method, threadId, seq);
    return true;
  }

  /** Writes a response, error or server request: never dropped or merged, in order with events. */
  sendControl(frame: string): void {
    if (!this.#open) return;
    this.#out.write(frame, "", undefined, NaN);
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

  /**
   * Closes the connection; the transport reports `closed` when it is gone. Frames queued for this tick
   * are written first; a backlog is not (a resuming client asks for what it lacks with `afterSeq`).
   */
  close(code: number, reason: string, dropAfterMs?: number): void {
    if (!this.#open) return;
    this.#open = false;
    this.#out.dispose();
    this.#link.close(code, reason, dropAfterMs);
  }

  /** Flushes queued frames at once (before a close initiated elsewhere). */
  flush(): void {
    this.#link.flush();
  }

  /** The transport is gone. */
  markClosed(): void {
    this.#open = false;
    this.#out.dispose();
  }

  /**
   * Closes a slow consumer with 1013 and, per followed thread, the last seq written to its socket:
   * the one before its oldest event still in the backlog, else the last one queued.
   */
  #shed(unwritten: Map<string, number>, cause: ShedCause): void {
    const cursors: Array<number | string | undefined> = [];
    for (const m of this.memberships.values()) {
      const first = unwritten.get(m.threadId);
      cursors.push(first === undefined ? m.lastSeq : first - 1);
    }
    this.#metrics.connectionsClosed.inc({ reason: cause === "grace" ? "outboundFull" : "outboundTotalFull" });
    // A consumer this far behind is not reading: its socket (and what it still buffers) goes soon.
    this.close(CLOSE_TRY_AGAIN_LATER, overflowReason(cursors), SHED_DROP_AFTER_MS);
  }
}

const METHOD_PREFIX = /^\{\s*"method"\s*:\s*"((?:[^"\\]|\\.)*)"/;
/** The method of a serialised notification, read from its leading `"method"` member without parsing it all. */
function notificationMethod(frame: string): string | undefined {
  return METHOD_PREFIX.exec(frame)?.[1];
}
