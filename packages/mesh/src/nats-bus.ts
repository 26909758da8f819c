import {
  ClosedConnectionError,
  connect,
  createInbox,
  DrainingConnectionError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
  type PublishOptions,
} from "@nats-io/transport-node";
import {
  BusError,
  type Bus,
  type BusHeaders,
  type BusMessage,
  type MessageHandler,
  type RequestOptions,
  type SubscribeOptions,
  type Subscription,
} from "./bus.ts";
import { DeliveryQueue } from "./delivery-queue.ts";
import { invokeHandler, logDeliveryError, reportDeliveryError, type DeliveryErrorListener } from "./delivery-error.ts";
import { decodeHeaderBytes, toMsgHdrs } from "./nats-headers.ts";
import { PART_HEADER, PART_HEADER_ROOM, PartAssembler, splitIntoParts, type Joined } from "./message-parts.ts";
import { assertPublishSubject, parsePattern } from "./subject-pattern.ts";

/** Options of {@link NatsBus.connect}. */
export interface NatsBusOptions {
  /** Server URLs, e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Client name shown by the server's monitoring, e.g. `router-<id>`. */
  name: string;
  /** Token authentication. */
  token?: string;
  /** User/password authentication: the user name. */
  user?: string;
  /** User/password authentication: the password. */
  pass?: string;
  /** Reconnect attempts per server before the bus closes for good; default -1 (forever). */
  maxReconnectAttempts?: number;
  /** Receives handler failures and server-ended subscriptions; default: {@link logDeliveryError}. */
  onDeliveryError?: DeliveryErrorListener;
}

/** How long `close()` waits for buffered publishes to reach the server before closing anyway. */
const CLOSE_FLUSH_TIMEOUT_MS = 2_000;
/** nats-server's default `max_payload`, used until the server says otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Reply status NATS sends to a request's inbox when no subscriber exists for the subject. */
const NO_RESPONDERS_STATUS = 503;

interface NatsSub {
  readonly handler: MessageHandler;
  active: boolean;
  /** Joins parted messages for this subscription; made at the first part. */
  parts?: PartAssembler;
}

/** Publishes one message, in parts when it is larger than the server takes. */
type PartedPublish = (subject: string, data: Uint8Array, headers: BusHeaders | undefined, reply?: string) => void;

interface PendingRequest {
  readonly subject: string;
  readonly resolve: (msg: BusMessage) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class NatsMessage implements BusMessage {
  /** The subscription it is for; null for a reply on the bus's request inbox. */
  readonly target: NatsSub | null;
  readonly raw: Msg;
  readonly #send: PartedPublish;
  #data: Uint8Array | undefined;
  #headers: BusHeaders | undefined | null = null;

  /** `headers`: `raw`'s, decoded already; `joined`: the whole of a parted message, whose last part is `raw`. */
  constructor(raw: Msg, target: NatsSub | null, send: PartedPublish, headers: BusHeaders | undefined, joined?: Joined) {
    this.raw = raw;
    this.target = target;
    this.#send = send;
    this.#headers = headers;
    if (joined !== undefined) {
      this.#data = joined.data;
      this.#headers = joined.headers;
    }
  }

  get subject(): string {
    return this.raw.subject;
  }

  get data(): Uint8Array {
    this.#data ??= this.raw.data;
    return this.#data;
  }

  get headers(): BusHeaders | undefined {
    if (this.#headers === null) this.#headers = headersOf(this.raw);
    return this.#headers;
  }

  get expectsReply(): boolean {
    const reply = this.raw.reply;
    return this.target !== null && reply !== undefined && reply !== "";
  }

  respond(data: Uint8Array, headers?: BusHeaders): void {
    if (!this.expectsReply) return;
    this.#send(this.raw.reply!, data, headers);
  }
}

/**
 * {@link Bus} over a NATS connection. Handlers run from the subscription callbacks; requests share one
 * inbox subscription. Messages of all subscriptions, replies included, go through one delivery queue, so
 * a requester sees its reply before the handler of any message the server sent after it.
 */
export class NatsBus implements Bus {
  readonly #nc: NatsConnection;
  readonly #onDeliveryError: DeliveryErrorListener;
  readonly #queue: DeliveryQueue<NatsMessage>;
  /** `_INBOX.<nuid>.`; a request's reply subject is this plus its token. */
  readonly #inbox: string;
  readonly #pending = new Map<string, PendingRequest>();
  readonly #statusLoop: Promise<void>;
  readonly #reconnectListeners: Array<() => void> = [];
  readonly #inboxParts = new PartAssembler();
  #nextToken = 0;
  #connected = true;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(nc: NatsConnection, onDeliveryError: DeliveryErrorListener) {
    this.#nc = nc;
    this.#onDeliveryError = onDeliveryError;
    this.#queue = new DeliveryQueue({ deliver: (msg) => this.#deliver(msg), isReply: (msg) => msg.target === null });
    this.#inbox = `${createInbox()}.`;
    nc.subscribe(`${this.#inbox}*`, {
      callback: (err, msg) => {
        if (err !== null) reportDeliveryError(this.#onDeliveryError, err, this.#inbox);
        else this.#received(msg, null);
      },
    });
    this.#statusLoop = this.#watchStatus();
    void nc.closed().then(() => this.#onConnectionClosed());
  }

  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const connectOpts: NodeConnectionOptions = {
      servers: opts.servers,
      name: opts.name,
      maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
    };
    if (opts.token !== undefined) connectOpts.token = opts.token;
    if (opts.user !== undefined) connectOpts.user = opts.user;
    if (opts.pass !== undefined) connectOpts.pass = opts.pass;
    const nc = await connect(connectOpts);
    return new NatsBus(nc, opts.onDeliveryError ?? logDeliveryError);
  }

  onReconnect(listener: () => void): void {
    this.#reconnectListeners.push(listener);
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** The underlying connection, for JetStream (event stream, KV buckets) on the same socket. */
  get connection(): NatsConnection {
    return this.#nc;
  }

  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void {
    if (this.#closed) throw new BusError("closed", subject);
    assertPublishSubject(subject);
    this.#publish(subject, data, headers);
  }

  /** Publishes `data`, in parts when it is larger than the server's `max_payload` allows. */
  readonly #publish: PartedPublish = (subject, data, headers, reply) => {
    const maxPart = (this.#nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - PART_HEADER_ROOM;
    try {
      if (data.length <= maxPart) {
        // nats.js keeps a reference to the payload until its next write; copy so callers may reuse buffers.
        this.#nc.publish(subject, new Uint8Array(data), publishWith(headers, reply));
        return;
      }
      for (const part of splitIntoParts(data, headers, maxPart)) this.#nc.publish(subject, new Uint8Array(part.data), publishWith(part.headers, reply));
    } catch (err) {
      throw toBusError(err, subject);
    }
  };

  /** A message from the server: handed on, or kept until its parts are all in. */
  #received(raw: Msg, target: NatsSub | null): void {
    const headers = headersOf(raw);
    if (headers?.[PART_HEADER]) {
      const assembler = target === null ? this.#inboxParts : (target.parts ??= new PartAssembler());
      const joined = assembler.add(raw.data, headers);
      if (joined !== null) this.#queue.dispatch(new NatsMessage(raw, target, this.#publish, headers, joined));
      return;
    }
    this.#queue.dispatch(new NatsMessage(raw, target, this.#publish, headers));
  }

  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<BusMessage> {
    if (this.#closed) return Promise.reject(new BusError("closed", subject));
    try {
      assertPublishSubject(subject);
    } catch (err) {
      return Promise.reject(err);
    }
    const token = (this.#nextToken++).toString(36);
    return new Promise<BusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(token)) reject(new BusError("timeout", subject));
      }, opts.timeoutMs);
      this.#pending.set(token, { subject, resolve, reject, timer });
      try {
        this.#publish(subject, data, opts.headers, this.#inbox + token);
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(token);
        reject(toBusError(err, subject));
      }
    });
  }

  subscribe(subject: string, handler: MessageHandler, opts?: SubscribeOptions): Subscription {
    if (this.#closed) throw new BusError("closed", subject);
    parsePattern(subject);
    const sub: NatsSub = { handler, active: true };
    let ns: ReturnType<NatsConnection["subscribe"]>;
    try {
      ns = this.#nc.subscribe(subject, {
        queue: opts?.queue || undefined,
        callback: (err, msg) => {
          if (err !== null) reportDeliveryError(this.#onDeliveryError, err, subject);
          else this.#received(msg, sub);
        },
      });
    } catch (err) {
      throw toBusError(err, subject);
    }
    return {
      subject,
      unsubscribe: () => {
        if (!sub.active) return;
        sub.active = false;
        if (!this.#nc.isClosed()) ns.unsubscribe();
      },
    };
  }

  /**
   * Round trip to the server. Rejects with the client's error when the connection drops before the
   * server answered; resolves at once after close.
   */
  async flush(): Promise<void> {
    if (this.#nc.isClosed()) return;
    try {
      await this.#nc.flush();
    } catch (err) {
      throw toBusError(err, "flush");
    }
  }

  /**
   * Stops intake at once, gives buffered publishes up to {@link CLOSE_FLUSH_TIMEOUT_MS} to reach the
   * server, closes the connection and rejects open requests with `closed`. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    if (!this.#nc.isClosed()) {
      if (this.#connected) await settleWithin(this.#nc.flush(), CLOSE_FLUSH_TIMEOUT_MS);
      await this.#nc.close();
    }
    this.#onConnectionClosed();
    await this.#statusLoop;
  }

  async #watchStatus(): Promise<void> {
    try {
      for await (const s of this.#nc.status()) {
        if (s.type === "disconnect") this.#connected = false;
        else if (s.type === "reconnect") {
          this.#connected = true;
          for (const listener of this.#reconnectListeners) {
            try {
              listener();
            } catch (err) {
              reportDeliveryError(this.#onDeliveryError, err, "reconnect");
            }
          }
        }
      }
    } catch {
      // The iterator ends when the connection closes; nothing else to report.
    }
    this.#connected = false;
  }

  /** Also runs when the connection gives up reconnecting on its own. */
  #onConnectionClosed(): void {
    this.#closed = true;
    this.#connected = false;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new BusError("closed", p.subject));
    }
    this.#pending.clear();
    this.#queue.clear();
  }

  #deliver(msg: NatsMessage): void {
    const target = msg.target;
    if (target !== null) {
      if (target.active) invokeHandler(target.handler, msg, this.#onDeliveryError);
      return;
    }
    const token = msg.raw.subject.slice(this.#inbox.length);
    const pending = this.#pending.get(token);
    if (pending === undefined) return;
    this.#pending.delete(token);
    clearTimeout(pending.timer);
    const raw = msg.raw;
    if (raw.data.length === 0 && raw.headers?.code === NO_RESPONDERS_STATUS) {
      pending.reject(new BusError("noResponders", pending.subject));
    } else {
      pending.resolve(msg);
    }
  }
}

function publishWith(headers: BusHeaders | undefined, reply: string | undefined): PublishOptions | undefined {
  if (headers === undefined && reply === undefined) return undefined;
  const opts: PublishOptions = {};
  if (headers !== undefined) opts.headers = toMsgHdrs(headers);
  if (reply !== undefined) opts.reply = reply;
  return opts;
}

/** nats.js's received message as it stores it: the header block is the first `_msg.hdr` bytes of `_rdata` (-1: none). */
interface RawMsgParts {
  _msg?: { hdr?: number };
  _rdata?: Uint8Array;
}

/**
 * The headers of a received message, read straight from its header bytes (nats.js decodes them into a
 * `MsgHdrs` first, which costs more than the rest of delivering a small message); status blocks and
 * anything unusual go through nats.js.
 */
function headersOf(raw: Msg): BusHeaders | undefined {
  const parts = raw as unknown as RawMsgParts;
  const hdr = parts._msg?.hdr;
  const data = parts._rdata;
  if (typeof hdr === "number" && data instanceof Uint8Array) {
    if (hdr < 0) return undefined;
    const fast = decodeHeaderBytes(data.subarray(0, hdr));
    if (fast !== null) return fast;
  }
  return fromMsgHdrs(raw.headers);
}

/** First value per key; status-only headers (no keys) become undefined. */
function fromMsgHdrs(h: MsgHdrs | undefined): BusHeaders | undefined {
  if (h === undefined) return undefined;
  let out: BusHeaders | undefined;
  for (const [key, values] of h) {
    const first = values[0];
    if (first === undefined) continue;
    out ??= {};
    out[key] = first;
  }
  return out;
}

function toBusError(err: unknown, subject: string): unknown {
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError) {
    return new BusError("closed", subject, { cause: err });
  }
  return err;
}

async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([p.then(noop, noop), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {}
