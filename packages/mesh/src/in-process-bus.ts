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
import { invokeHandler, logDeliveryError, type DeliveryErrorListener } from "./delivery-error.ts";
import { assertPublishSubject, isWildcardPattern, matchesPattern, parsePattern } from "./subject-pattern.ts";

/** Options of {@link InProcessBus}. */
export interface InProcessBusOptions {
  /** Receives what a handler threw; default: {@link logDeliveryError} (stderr). */
  onDeliveryError?: DeliveryErrorListener;
}

interface Sub {
  readonly subject: string;
  /** Parsed pattern of a wildcard subscription; null for an exact subject. */
  readonly tokens: readonly string[] | null;
  readonly queue: string | undefined;
  readonly handler: MessageHandler;
  active: boolean;
}

interface PendingRequest {
  readonly subject: string;
  readonly resolve: (msg: BusMessage) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

type ReplySink = (requestId: number, data: Uint8Array, headers: BusHeaders | undefined) => void;

const NO_SUBS: readonly Sub[] = [];
/** Wildcard matches are cached per subject; the cache is dropped when full or when a wildcard sub changes. */
const MAX_WILDCARD_CACHE_ENTRIES = 8_192;
/**
 * Deliveries in one run before the bus yields to timers and I/O. The router and the host share the
 * process: a burst of events (a linger tick's batches for every streaming thread) delivered in one run
 * would hold off socket reads and writes for as long as it takes.
 */
const MAX_DELIVERIES_PER_TURN = 1_000;
/** Copies up to this size are cut from a shared slab instead of each getting a buffer of its own. */
const SLAB_COPY_MAX = 4_096;
const SLAB_BYTES = 64 * 1024;

class InProcessMessage implements BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: BusHeaders | undefined;
  /** The subscription this copy is for; null for a reply, which settles request {@link requestId}. */
  readonly target: Sub | null;
  /** The request this message carries or answers; 0 for a plain publish. */
  readonly requestId: number;
  readonly #reply: ReplySink | null;

  constructor(
    subject: string,
    data: Uint8Array,
    headers: BusHeaders | undefined,
    target: Sub | null,
    requestId: number,
    reply: ReplySink | null,
  ) {
    this.subject = subject;
    this.data = data;
    this.headers = headers;
    this.target = target;
    this.requestId = requestId;
    this.#reply = reply;
  }

  get expectsReply(): boolean {
    return this.#reply !== null;
  }

  respond(data: Uint8Array, headers?: BusHeaders): void {
    this.#reply?.(this.requestId, data, headers);
  }
}

/**
 * A bus inside one process with NATS semantics: subjects and wildcards, queue groups, request/reply
 * with no-responders and timeouts. Payloads and headers are copied on publish and per receiver, as if
 * they had crossed the wire. Delivery is asynchronous and never re-entrant: one FIFO for the whole bus,
 * so messages from one publisher arrive in publish order across subjects.
 */
export class InProcessBus implements Bus {
  readonly #exact = new Map<string, readonly Sub[]>();
  #wildcards: readonly Sub[] = NO_SUBS;
  readonly #wildcardCache = new Map<string, readonly Sub[]>();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #queue: DeliveryQueue<InProcessMessage>;
  readonly #onDeliveryError: DeliveryErrorListener;
  readonly #reply: ReplySink = (id, data, headers) => this.#enqueueReply(id, data, headers);
  #nextRequestId = 1;
  #roundRobin = 0;
  #slab = new ArrayBuffer(SLAB_BYTES);
  #slabUsed = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(opts: InProcessBusOptions = {}) {
    this.#onDeliveryError = opts.onDeliveryError ?? logDeliveryError;
    this.#queue = new DeliveryQueue({ deliver: (msg) => this.#deliver(msg), isReply: (msg) => msg.target === null, maxPerTurn: MAX_DELIVERIES_PER_TURN });
  }

  get connected(): boolean {
    return !this.#closed;
  }

  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void {
    if (this.#closed) throw new BusError("closed", subject);
    assertPublishSubject(subject);
    this.#route(subject, data, headers, 0);
  }

  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<BusMessage> {
    if (this.#closed) return Promise.reject(new BusError("closed", subject));
    const id = this.#nextRequestId++;
    try {
      assertPublishSubject(subject);
      if (this.#route(subject, data, opts.headers, id) === 0) {
        return Promise.reject(new BusError("noResponders", subject));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    // Registered synchronously, before the queue can deliver the request.
    return new Promise<BusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(id)) reject(new BusError("timeout", subject));
      }, opts.timeoutMs);
      this.#pending.set(id, { subject, resolve, reject, timer });
    });
  }

  subscribe(subject: string, handler: MessageHandler, opts?: SubscribeOptions): Subscription {
    if (this.#closed) throw new BusError("closed", subject);
    const tokens = parsePattern(subject);
    const wildcard = isWildcardPattern(tokens);
    const sub: Sub = { subject, tokens: wildcard ? tokens : null, queue: opts?.queue || undefined, handler, active: true };
    if (wildcard) {
      this.#wildcards = [...this.#wildcards, sub];
      this.#wildcardCache.clear();
    } else {
      this.#exact.set(subject, [...(this.#exact.get(subject) ?? NO_SUBS), sub]);
    }
    return { subject, unsubscribe: () => this.#unsubscribe(sub) };
  }

  flush(): Promise<void> {
    return this.#queue.whenDelivered();
  }

  /** Stops intake at once, delivers what was already published, then rejects open requests with `closed`. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    await this.#queue.whenDelivered();
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new BusError("closed", p.subject));
    }
    this.#pending.clear();
    for (const subs of this.#exact.values()) for (const s of subs) s.active = false;
    for (const s of this.#wildcards) s.active = false;
    this.#exact.clear();
    this.#wildcards = NO_SUBS;
    this.#wildcardCache.clear();
  }

  /** Queues one copy per receiver; returns how many receivers there are. */
  #route(subject: string, data: Uint8Array, headers: BusHeaders | undefined, requestId: number): number {
    const hdrs = headers === undefined ? undefined : copyHeaders(headers);
    const exact = this.#exact.get(subject) ?? NO_SUBS;
    const wild = this.#wildcards.length === 0 ? NO_SUBS : this.#matchWildcards(subject);
    const reply = requestId === 0 ? null : this.#reply;
    if (wild.length === 0 && exact.length === 1) {
      // Hot path: one subscriber on an exact subject (a queue group of one is the same thing).
      const sub = exact[0] as Sub;
      this.#queue.enqueue(new InProcessMessage(subject, this.#copy(data), hdrs, sub, requestId, reply));
      return 1;
    }
    if (exact.length + wild.length === 0) return 0;
    const targets: Sub[] = [];
    let groups: Map<string, Sub[]> | undefined;
    // As in nats-server, a queue group is one group across every matching subscription subject.
    for (const list of [exact, wild]) {
      for (const sub of list) {
        if (sub.queue === undefined) {
          targets.push(sub);
          continue;
        }
        groups ??= new Map();
        const members = groups.get(sub.queue);
        if (members === undefined) groups.set(sub.queue, [sub]);
        else members.push(sub);
      }
    }
    if (groups !== undefined) {
      for (const members of groups.values()) targets.push(members[this.#roundRobin++ % members.length] as Sub);
    }
    for (const sub of targets) {
      const h = hdrs === undefined ? undefined : { ...hdrs };
      this.#queue.enqueue(new InProcessMessage(subject, this.#copy(data), h, sub, requestId, reply));
    }
    return targets.length;
  }

  #matchWildcards(subject: string): readonly Sub[] {
    const cached = this.#wildcardCache.get(subject);
    if (cached !== undefined) return cached;
    const tokens = subject.split(".");
    const matched = this.#wildcards.filter((s) => matchesPattern(s.tokens as readonly string[], tokens));
    if (this.#wildcardCache.size >= MAX_WILDCARD_CACHE_ENTRIES) this.#wildcardCache.clear();
    this.#wildcardCache.set(subject, matched.length === 0 ? NO_SUBS : matched);
    return matched;
  }

  #unsubscribe(sub: Sub): void {
    if (!sub.active) return;
    sub.active = false;
    if (sub.tokens !== null) {
      this.#wildcards = this.#wildcards.filter((s) => s !== sub);
      this.#wildcardCache.clear();
      return;
    }
    const rest = (this.#exact.get(sub.subject) ?? NO_SUBS).filter((s) => s !== sub);
    if (rest.length === 0) this.#exact.delete(sub.subject);
    else this.#exact.set(sub.subject, rest);
  }

  #enqueueReply(requestId: number, data: Uint8Array, headers: BusHeaders | undefined): void {
    if (this.#closed) return;
    const hdrs = headers === undefined ? undefined : copyHeaders(headers);
    this.#queue.enqueue(new InProcessMessage(`_INBOX.${requestId}`, this.#copy(data), hdrs, null, requestId, null));
  }

  /**
   * A receiver's own copy of a payload. Small ones are views into a shared slab: one allocation serves
   * many messages, where a buffer each costs an allocation and a finaliser for the collector to run.
   */
  #copy(data: Uint8Array): Uint8Array {
    const n = data.length;
    if (n > SLAB_COPY_MAX) return new Uint8Array(data);
    if (this.#slabUsed + n > SLAB_BYTES) {
      this.#slab = new ArrayBuffer(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const copy = new Uint8Array(this.#slab, this.#slabUsed, n);
    copy.set(data);
    // Views start 8-byte aligned, as a buffer of their own would.
    this.#slabUsed += (n + 7) & ~7;
    return copy;
  }

  #deliver(msg: InProcessMessage): void {
    const target = msg.target;
    if (target !== null) {
      if (target.active) invokeHandler(target.handler, msg, this.#onDeliveryError);
      return;
    }
    const pending = this.#pending.get(msg.requestId);
    if (pending === undefined) return;
    this.#pending.delete(msg.requestId);
    clearTimeout(pending.timer);
    pending.resolve(msg);
  }
}

/**
 * Copies headers the way NATS carries them: names are printable ASCII without `:`, values are trimmed,
 * and a message with no header keys arrives without headers.
 */
function copyHeaders(headers: BusHeaders): BusHeaders | undefined {
  let out: BusHeaders | undefined;
  for (const key of Object.keys(headers)) {
    if (key.length === 0) throw new Error("empty header name");
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c < 33 || c > 126 || c === 58) throw new Error(`invalid header name: ${JSON.stringify(key)}`);
    }
    const value = headers[key] as string;
    if (value.includes("\r") || value.includes("\n")) throw new Error(`invalid value for header ${key}`);
    out ??= {};
    out[key] = value.trim();
  }
  return out;
}
