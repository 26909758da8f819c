/**
 * The transport between routers and session hosts. Two implementations: `NatsBus` (real NATS) and
 * `InProcessBus` (one process; every message is serialised and copied exactly as it would travel).
 */

/** Message headers: flat string map (NATS headers, first value per key). */
export type BusHeaders = Record<string, string>;

export interface BusMessage {
  readonly subject: string;
  /** Payload bytes; receivers own this copy. */
  readonly data: Uint8Array;
  readonly headers: BusHeaders | undefined;
  /** True when the sender waits for a reply. */
  readonly expectsReply: boolean;
  /** Sends the reply of a request; a no-op when the sender did not ask for one. */
  respond(data: Uint8Array, headers?: BusHeaders): void;
}

export interface RequestOptions {
  /** Time to wait for the reply, in ms. */
  timeoutMs: number;
  headers?: BusHeaders;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
}

export interface Subscription {
  readonly subject: string;
  unsubscribe(): void;
}

export type MessageHandler = (msg: BusMessage) => void;

/**
 * Request/reply fails with {@link BusError}: `noResponders` when no subscriber exists for the subject
 * (lets a router learn that no host holds a thread without waiting), `timeout` when nobody answered.
 */
export class BusError extends Error {
  readonly kind: "noResponders" | "timeout" | "closed";
  constructor(kind: "noResponders" | "timeout" | "closed", subject: string, options?: ErrorOptions) {
    super(`${kind} on ${subject}`, options);
    this.name = "BusError";
    this.kind = kind;
  }
}

export interface Bus {
  /** Publishes and waits for one reply. Rejects with {@link BusError}. */
  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<BusMessage>;
  /**
   * Fire-and-forget publish. Messages from one publisher reach a receiving bus in publish order, across
   * subjects: a reply sent before an event settles the request (and the requester's continuation runs)
   * before the event's handler is called. `data` is copied, so the caller may reuse the buffer. Throws `BusError('closed')`
   * after `close()`.
   */
  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void;
  /**
   * Subscribes; `*` matches one token and `>` the rest, as in NATS. Handlers run synchronously in
   * delivery order and must not throw (errors are logged and dropped).
   */
  subscribe(subject: string, handler: MessageHandler, opts?: SubscribeOptions): Subscription;
  /**
   * Resolves once everything published so far has reached the server (NATS) or been delivered. On NATS
   * this also covers subscriptions: after `flush()` other connections' publishes reach them.
   */
  flush(): Promise<void>;
  /** True while connected. */
  readonly connected: boolean;
  /**
   * Registers a listener called each time the connection to the server comes back after a loss.
   * Messages routed to this bus meanwhile were lost; subscribers that need them read them back.
   * Absent on buses that never disconnect.
   */
  onReconnect?(listener: () => void): void;
  close(): Promise<void>;
}
