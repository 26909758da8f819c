import type { RpcErrorShape } from "./errors.ts";
import type { RequestDeadline } from "./request-deadline.ts";

/**
 * Versioned envelopes that cross the router–host line. Nothing else crosses it. Commands and replies
 * are JSON; thread events are the serialised wire frame plus headers, so a router can forward them as
 * bytes without parsing.
 */
export const ENVELOPE_VERSION = 1 as const;

/** Who sent a command: enough for the host to attribute it and to answer per connection. */
export interface Origin {
  routerId: string;
  connId: string;
  experimentalApi: boolean;
  clientName: string;
  clientVersion: string;
  /**
   * The user inside the tenant the command acts for (a JWT subject, an API key's owner); absent or null
   * for a tenant-wide credential (operator token, loopback dev mode, a key without an owner). Added in
   * envelope version 1 as an optional field: hosts read an origin without it as a tenant-wide one.
   */
  user?: string | null;
  /**
   * The credential sees and acts on every thread of its tenant: it has no user, or holds the `admin`
   * scope. Absent: true when `user` is absent or null, false otherwise.
   */
  admin?: boolean;
  /** The API key the connection authenticated with (admission counts request bursts per key). */
  keyId?: string;
}

/** A client request (or an internal `mesh/*` command) on its way to a session host. */
export interface CommandEnvelope {
  v: typeof ENVELOPE_VERSION;
  tenant: string;
  method: string;
  params: unknown;
  origin: Origin;
  /** W3C trace context of the client request, when present. */
  trace?: { traceparent?: string | null; tracestate?: string | null } | null;
  /**
   * When the sender stops waiting for the reply. Added in envelope version 1 as an optional field,
   * itself versioned: a host reads an envelope without it, or with a version it does not know, as one
   * whose sender waits however long it takes. Internal `mesh/*` notices keep the thread consistent and
   * are served whatever their deadline.
   */
  deadline?: RequestDeadline;
}

/** A server request that is pending on a thread, as the host keeps it. */
export interface PendingServerRequest {
  /** Host-assigned key, unique per thread; routers map it to per-connection JSON-RPC ids. */
  requestKey: string;
  method: string;
  params: unknown;
}

export interface ReplyOk {
  v: typeof ENVELOPE_VERSION;
  ok: true;
  result: unknown;
  /** Serialised notifications for the requester only, sent before the response (e.g. deprecationNotice). */
  before?: string[];
  /** Serialised notifications for the requester only, sent right after the response. */
  after?: string[];
  /** The requester is now subscribed to this thread (start, resume, fork). */
  subscribe?: string;
  /** The requester is no longer subscribed to this thread. */
  unsubscribe?: string;
  /** The thread's last event `seq` the result's snapshot covers (start, resume, fork). */
  lastSeq?: number;
  /** Pending server requests to re-send to the requester after the response (resume). */
  pendingRequests?: PendingServerRequest[];
}

export interface ReplyErr {
  v: typeof ENVELOPE_VERSION;
  ok: false;
  error: RpcErrorShape;
  before?: string[];
}

export type ReplyEnvelope = ReplyOk | ReplyErr;

/**
 * Internal host commands, never accepted from clients.
 * - `mesh/serverRequest/respond`: a client answered a server request.
 * - `mesh/connection/closed`: a connection that was subscribed to the thread went away.
 * - `mesh/thread/flush`: another host is about to read the thread from the store (a fork).
 */
export const MeshMethod = {
  RespondServerRequest: "mesh/serverRequest/respond",
  ConnectionClosed: "mesh/connection/closed",
  /** Host → the thread's owner: answer once every write issued for the thread so far is stored. */
  FlushThread: "mesh/thread/flush",
  /**
   * Router → the thread's owner: the newest events it published after `afterSeq`, as far as it kept
   * them, for a live feed that lost events its event log did not capture either.
   */
  RecentEvents: "mesh/thread/recentEvents",
} as const;

export interface RecentEventsParams {
  threadId: string;
  afterSeq: number;
}

/** Events as published: subject, headers and the payload as UTF-8 text (frames are JSON). */
export interface RecentEventsResult {
  events: Array<{ subject: string; headers: Record<string, string>; data: string }>;
}

export interface RespondServerRequestParams {
  threadId: string;
  requestKey: string;
  result?: unknown;
  error?: RpcErrorShape;
}

export interface ConnectionClosedParams {
  threadId: string;
}

/** Header names on thread event messages. */
export const EventHeader = {
  /** JSON-RPC method of the event. */
  Method: "tm-m",
  /** {@link EventKind}. */
  Kind: "tm-k",
  ThreadId: "tm-t",
  /** Per-thread sequence number, strictly increasing. */
  Seq: "tm-s",
  /** Owner epoch that produced the event. */
  Epoch: "tm-e",
  /** On a batch (kind `b`): the seq of its first frame; `tm-s` is the seq of its last. */
  FirstSeq: "tm-f",
  /** Server request key (kinds `r` and `x`). */
  RequestKey: "tm-r",
  /** On a broadcast event: every subscription to the thread ends (archive, delete, close). */
  DropSubscriptions: "tm-d",
  /**
   * The id of the turn running on the thread once the event's frames are applied; absent when none is.
   * A host adopting a thread whose owner died reads it off the window's newest event: a turn whose start
   * never reached the store is still seen running.
   */
  ActiveTurn: "tm-a",
  /**
   * On a broadcast event: the users of the tenant, besides its administrators, who may see the thread (its
   * owner and the users it is shared with), as a JSON array of strings; absent: every connection of the
   * tenant (events of hosts that predate users).
   */
  Audience: "tm-v",
  /**
   * On a server request (kind `r`) and an access change (kind `a`): who may answer the thread's server
   * requests, as a JSON array of user ids where `null` stands for the tenant's user-less credentials
   * (its owner, or the owner and its delegated approvers); absent: every follower (hosts that predate users).
   */
  Answerers: "tm-w",
} as const;

/**
 * `n`: a notification; the payload is the complete wire frame.
 * `r`: a server request; the payload is its `params` JSON, the router adds a per-connection id.
 * `x`: a server request was resolved; the router emits `serverRequest/resolved` with its own id
 *      (or nothing, for dynamic tool calls, as Codex does); the payload is empty.
 * `b`: consecutive notifications of one thread (seq `tm-f` … `tm-s`), complete wire frames joined by
 *      `\n` (JSON text never contains a raw newline); each frame starts with `{"method":"`.
 * `a`: who may see the thread and answer its requests changed (`tm-v`, `tm-w`); the payload is empty.
 *      Routers detach followers no longer in the audience and forget requests they may no longer answer.
 */
export type EventKind = "n" | "r" | "x" | "b" | "a";

export function encodeEnvelope(v: CommandEnvelope | ReplyEnvelope): Uint8Array {
  return TEXT_ENCODER.encode(JSON.stringify(v));
}
export function decodeEnvelope<T extends CommandEnvelope | ReplyEnvelope>(data: Uint8Array): T {
  const v = JSON.parse(TEXT_DECODER.decode(data)) as T;
  if (typeof v !== "object" || v === null || (v as { v?: unknown }).v !== ENVELOPE_VERSION) {
    throw new Error("unsupported envelope version");
  }
  return v;
}

export const TEXT_ENCODER = new TextEncoder();
export const TEXT_DECODER = new TextDecoder();
