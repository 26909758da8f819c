import { seqRange, type Bus, type BusHeaders, type BusMessage, type EventLog, type Subscription } from "@threadmesh/mesh";
import { BROADCAST_NOTIFICATIONS, EventHeader, TEXT_DECODER, tenantBroadcastWildcard, threadEventSubject } from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";
import { parseAudience } from "./auth/principal-access.ts";
import { splitBatch, type SplitBatch } from "./batch-frames.ts";
import type { Connection, Membership } from "./connection.ts";
import { CLOSE_GAP, gapCloseReason, gapSource, readGap, type GapRead, type OwnerEventsReader, type PendingFill } from "./gap-fill.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import { parseAnswerers } from "./thread-answerers.ts";

interface ThreadEntry {
  readonly key: string;
  readonly tenant: string;
  readonly threadId: string;
  readonly members: Set<Membership>;
  readonly joiners: Set<Joiner>;
  /** Newest owner epoch seen; events of older epochs come from a superseded owner and are dropped. */
  maxEpoch: number;
  /** Highest seq received on the live feed; a later event starting above `liveSeq + 1` reveals a gap. */
  liveSeq: number;
  /** Set while a gap in the live feed is being read from the event log. */
  fill: PendingFill | undefined;
  sub: Subscription | undefined;
}

/** What the fan-out reads of an event: a live bus message or one read back from the event log. */
type EventLike = Pick<BusMessage, "data" | "headers">;

interface TenantEntry {
  readonly conns: Set<Connection>;
  readonly sub: Subscription;
}

/**
 * A connection about to follow a thread: the router listens to the thread before the command that
 * subscribes the connection (`thread/resume`) is sent, and holds the events that arrive until the reply
 * is written, so none falls between the response and the live feed.
 */
export interface Joiner {
  readonly conn: Connection;
  readonly threadId: string;
}

interface JoinerState extends Joiner {
  readonly entry: ThreadEntry;
  readonly held: BusMessage[];
  heldBytes: number;
  overflowed: boolean;
}

export interface FanOutOptions {
  bus: Bus;
  metrics: RouterMetrics;
  logger: Logger;
  /** Most bytes of events held for one joining connection; beyond it the connection is shed. */
  maxHeldBytes: number;
  /** Consecutive deltas of one item in a batch go out joined, to followers that have none of it yet. */
  joinDeltas?: boolean;
  /** Where gaps in the live feed are read from, with `ownerEvents`; without either a gap closes the thread's followers. */
  eventLog?: EventLog | undefined;
  /** Asks a thread's owner for the newest events it published. */
  ownerEvents?: OwnerEventsReader | undefined;
  /** A follower was detached because the thread is no longer shared with its user (tells the owner). */
  onAccessRevoked?: ((conn: Connection, threadId: string) => void) | undefined;
}

/**
 * After the bus reconnects, followed threads are read from the log twice: at once, and again once
 * interest in their subjects has reached every node of the cluster (events routed to the old
 * connection meanwhile were lost too). A live event after a gap triggers a read on its own.
 */
const RECONNECT_REFILL_MS = 2_000;
/** Threads read back at once after a reconnect. */
const RECONNECT_REFILL_CONCURRENCY = 8;

/**
 * Delivers host events to local connections: one bus subscription per thread that has at least one
 * local subscriber or joiner (reference-counted), one broadcast subscription per tenant with at least one
 * connection. Event payloads are forwarded as bytes; only headers are read.
 */
export class FanOut {
  readonly #bus: Bus;
  readonly #metrics: RouterMetrics;
  readonly #logger: Logger;
  readonly #maxHeldBytes: number;
  readonly #joinDeltas: boolean;
  readonly #gapSource: EventLog | undefined;
  readonly #onAccessRevoked: (conn: Connection, threadId: string) => void;
  #refillTimer: NodeJS.Timeout | undefined;
  readonly #threads = new Map<string, ThreadEntry>();
  readonly #tenants = new Map<string, TenantEntry>();

  constructor(opts: FanOutOptions) {
    this.#bus = opts.bus;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#maxHeldBytes = opts.maxHeldBytes;
    this.#joinDeltas = opts.joinDeltas ?? false;
    this.#gapSource = gapSource(opts.eventLog, opts.ownerEvents);
    this.#onAccessRevoked = opts.onAccessRevoked ?? (() => {});
    opts.bus.onReconnect?.(() => this.#afterReconnect());
  }

  /** Starts broadcast delivery for a new connection (it receives broadcasts once initialized). */
  addConnection(conn: Connection): void {
    let t = this.#tenants.get(conn.tenant);
    if (t === undefined) {
      const conns = new Set<Connection>();
      const tenant = conn.tenant;
      const sub = this.#bus.subscribe(tenantBroadcastWildcard(tenant), (msg) => this.#onBroadcast(tenant, conns, msg));
      t = { conns, sub };
      this.#tenants.set(tenant, t);
    }
    t.conns.add(conn);
  }

  /** Ends every subscription of a closed connection. */
  removeConnection(conn: Connection): void {
    for (const m of [...conn.memberships.values()]) this.#leave(m);
    const t = this.#tenants.get(conn.tenant);
    if (t === undefined) return;
    t.conns.delete(conn);
    if (t.conns.size === 0) {
      t.sub.unsubscribe();
      this.#tenants.delete(conn.tenant);
    }
  }

  /** Subscribes a connection to a thread (idempotent). */
  attach(conn: Connection, threadId: string): Membership {
    const existing = conn.memberships.get(threadId);
    if (existing !== undefined) return existing;
    const entry = this.#acquire(conn.tenant, threadId);
    const m: Membership = { conn, threadId, lastSeq: undefined, delivered: -Infinity };
    entry.members.add(m);
    conn.memberships.set(threadId, m);
    return m;
  }

  /** Unsubscribes a connection from a thread and forgets its server requests there. */
  detach(conn: Connection, threadId: string): void {
    const m = conn.memberships.get(threadId);
    if (m !== undefined) this.#leave(m);
  }

  /** Listens to a thread for a connection whose subscription is being requested. */
  beginJoin(conn: Connection, threadId: string): Joiner {
    const entry = this.#acquire(conn.tenant, threadId);
    const j: JoinerState = { conn, threadId, entry, held: [], heldBytes: 0, overflowed: false };
    entry.joiners.add(j);
    return j;
  }

  /**
   * The subscription was granted and the reply written: the connection becomes a member and receives
   * the events held meanwhile, in order.
   */
  completeJoin(joiner: Joiner, replay?: { events: readonly EventLike[]; afterSeq: number; coveredThrough: number }): void {
    const j = joiner as JoinerState;
    if (!j.entry.joiners.delete(j)) return;
    j.conn.countHeld(-j.heldBytes);
    if (j.overflowed) {
      this.#release(j.entry);
      j.conn.close(1013, "outbound queue full; resume with thread/resume");
      return;
    }
    // A connection that already follows the thread received the held events live.
    const already = j.conn.memberships.has(j.threadId);
    const m = this.attach(j.conn, j.threadId);
    this.#release(j.entry);
    if (already) return;
    const one = [m];
    if (replay === undefined) {
      for (const msg of j.held) this.#dispatch(j.entry, one, msg);
      return;
    }
    // Replayed events first (server requests are re-sent from the reply instead), then the live
    // events held meanwhile, each seq at most once.
    for (const e of replay.events) {
      const kind = e.headers?.[EventHeader.Kind];
      if (kind === "n" || kind === "b") this.#dispatch(j.entry, one, e, replay.afterSeq);
    }
    for (const msg of j.held) this.#dispatch(j.entry, one, msg, replay.coveredThrough);
  }

  /**
   * Before the reply: delivers the broadcasts a joiner holds that the host published before answering
   * (seq at or below `through`), and holds them no longer. Codex sends every connection a thread's
   * broadcasts as they happen, so a cold resume's `thread/status/changed` precedes the resume's response.
   */
  releaseEarlyBroadcasts(joiner: Joiner, through: number): void {
    const j = joiner as JoinerState;
    if (j.overflowed || !j.entry.joiners.has(j)) return;
    let kept = 0;
    for (const msg of j.held) {
      const h = msg.headers;
      const method = h?.[EventHeader.Method] ?? "";
      if (h?.[EventHeader.Kind] === "n" && BROADCAST_NOTIFICATIONS.has(method) && Number(h[EventHeader.Seq]) <= through) {
        j.heldBytes -= msg.data.length;
        j.conn.countHeld(-msg.data.length);
        j.conn.deliverEvent(msg.data, method);
      } else j.held[kept++] = msg;
    }
    j.held.length = kept;
  }

  /** The subscription was not granted (error reply, timeout, closed connection). */
  abortJoin(joiner: Joiner): void {
    const j = joiner as JoinerState;
    if (!j.entry.joiners.delete(j)) return;
    j.conn.countHeld(-j.heldBytes);
    this.#release(j.entry);
  }

  /** Ends every local subscription to a thread (archived or deleted). */
  dropThread(tenant: string, threadId: string): void {
    const entry = this.#threads.get(entryKey(tenant, threadId));
    if (entry === undefined) return;
    for (const m of [...entry.members]) this.#leave(m);
  }

  /**
   * Delivers to the thread's followers every event through `through` the live feed missed (a follower
   * resuming with `afterSeq` asks for this). False when the log could not supply them.
   */
  async fillThrough(tenant: string, threadId: string, afterSeq: number, through: number): Promise<boolean> {
    const key = entryKey(tenant, threadId);
    for (;;) {
      const entry = this.#threads.get(key);
      if (entry === undefined) return false;
      if (through <= Math.max(entry.liveSeq, afterSeq)) return true;
      if (this.#gapSource === undefined) return false;
      const running = entry.fill;
      if (running === undefined) return this.#fill(entry, [], through, afterSeq);
      // A read is under way: it goes on through `through` when it is done; the answer is whether the
      // events were delivered, known only once that read (and the one it hands on to) has ended.
      running.through = Math.max(running.through ?? -Infinity, through);
      if (!(await running.done)) return false;
    }
  }

  /** Unsubscribes everything. */
  close(): void {
    clearTimeout(this.#refillTimer);
    for (const e of this.#threads.values()) e.sub?.unsubscribe();
    for (const t of this.#tenants.values()) t.sub.unsubscribe();
    this.#threads.clear();
    this.#tenants.clear();
  }

  #acquire(tenant: string, threadId: string): ThreadEntry {
    const key = entryKey(tenant, threadId);
    const existing = this.#threads.get(key);
    if (existing !== undefined) return existing;
    const entry: ThreadEntry = { key, tenant, threadId, members: new Set(), joiners: new Set(), maxEpoch: -Infinity, liveSeq: -Infinity, fill: undefined, sub: undefined };
    entry.sub = this.#bus.subscribe(threadEventSubject(tenant, threadId), (msg) => this.#onThreadEvent(entry, msg));
    this.#threads.set(key, entry);
    return entry;
  }

  #release(entry: ThreadEntry): void {
    if (entry.members.size > 0 || entry.joiners.size > 0) return;
    entry.sub?.unsubscribe();
    this.#threads.delete(entry.key);
  }

  #leave(m: Membership): void {
    m.conn.memberships.delete(m.threadId);
    m.conn.requests.dropThread(m.threadId);
    const entry = this.#threads.get(entryKey(m.conn.tenant, m.threadId));
    if (entry === undefined) return;
    entry.members.delete(m);
    this.#release(entry);
  }

  /** False (and counted) when the event comes from an owner epoch older than one already seen. */
  #acceptEpoch(entry: ThreadEntry, headers: BusHeaders): boolean {
    const text = headers[EventHeader.Epoch];
    if (text === undefined) return true;
    const epoch = Number(text);
    if (!Number.isFinite(epoch)) return true;
    if (epoch < entry.maxEpoch) {
      this.#metrics.outboundDropped.inc({ reason: "staleEpoch" });
      // Its seq was used up all the same: skipping it is not a gap in the live feed.
      const range = seqRange(headers);
      if (range !== null && entry.fill === undefined && range.last > entry.liveSeq) entry.liveSeq = range.last;
      return false;
    }
    if (epoch > entry.maxEpoch && entry.maxEpoch > 0) this.#checkEpochStart(entry, epoch, headers);
    entry.maxEpoch = epoch;
    return true;
  }

  /**
   * A new owner must number its events after every seq its predecessor published. Its first event at or
   * below a seq already delivered here means it read too low a floor: its events would be taken for
   * repeats. That is a bug worth shouting about, never a state to hide.
   */
  #checkEpochStart(entry: ThreadEntry, epoch: number, headers: BusHeaders): void {
    const first = Number(headers[EventHeader.FirstSeq] ?? headers[EventHeader.Seq]);
    if (!Number.isFinite(first)) return;
    let delivered = -Infinity;
    for (const m of entry.members) delivered = Math.max(delivered, m.delivered);
    if (first > delivered) return;
    this.#metrics.seqRegressions.inc();
    this.#logger.error({ threadId: entry.threadId, epoch, firstSeq: first, delivered }, "new thread owner numbered its events at or below seqs already delivered");
  }

  #onThreadEvent(entry: ThreadEntry, msg: BusMessage): void {
    const h = msg.headers;
    if (h === undefined || !this.#acceptEpoch(entry, h)) return;
    if (entry.joiners.size > 0) for (const j of entry.joiners) this.#hold(j as JoinerState, msg);
    this.#live(entry, msg);
  }

  /**
   * One live event for the thread's members, in seq order: held while a gap is being filled, and the
   * start of a fill when it begins past the next seq expected.
   */
  #live(entry: ThreadEntry, msg: EventLike): void {
    if (entry.fill !== undefined) {
      this.#holdForFill(entry.fill, msg);
      return;
    }
    const range = seqRange(msg.headers as BusHeaders);
    if (range !== null && range.first > entry.liveSeq + 1 && Number.isFinite(entry.liveSeq) && entry.members.size > 0) {
      void this.#fill(entry, [msg], range.first - 1);
      return;
    }
    if (range !== null && range.last > entry.liveSeq) entry.liveSeq = range.last;
    if (entry.members.size > 0) this.#dispatch(entry, entry.members, msg);
  }

  #holdForFill(fill: PendingFill, msg: EventLike): void {
    if (fill.overflowed) return;
    fill.heldBytes += msg.data.length;
    if (fill.heldBytes > this.#maxHeldBytes) {
      fill.overflowed = true;
      fill.held.length = 0;
      return;
    }
    fill.held.push(msg);
  }

  /**
   * Reads the events after `entry.liveSeq` through `through` (the newest in the log when undefined),
   * delivers them, then the live events held meanwhile. Followers the log cannot make whole are closed
   * with the cursor to resume from.
   */
  async #fill(entry: ThreadEntry, held: EventLike[], through: number | undefined, fromIfUnseen = -Infinity): Promise<boolean> {
    let settle!: (ok: boolean) => void;
    const fill: PendingFill = { held: [], heldBytes: 0, overflowed: false, through: undefined, done: new Promise((resolve) => (settle = resolve)) };
    for (const msg of held) this.#holdForFill(fill, msg);
    entry.fill = fill;
    const ok = await this.#readFill(entry, fill, through, fromIfUnseen);
    settle(ok);
    return ok;
  }

  async #readFill(entry: ThreadEntry, fill: PendingFill, through: number | undefined, fromIfUnseen: number): Promise<boolean> {
    // A thread whose live feed has said nothing yet is read from where the caller stands.
    const from = Number.isFinite(entry.liveSeq) ? entry.liveSeq : fromIfUnseen;
    const read: GapRead = this.#gapSource === undefined ? { recovered: false, events: [], coveredThrough: from } : await readGap(this.#gapSource, entry.tenant, entry.threadId, from, through);
    entry.fill = undefined;
    if (this.#threads.get(entry.key) !== entry) return read.recovered;
    if (!read.recovered && through === undefined && !fill.overflowed) {
      // A read-back after a reconnect that failed proves nothing lost: a later gap is read on its own,
      // and one asked for meanwhile now.
      for (const msg of fill.held) this.#live(entry, msg);
      if (fill.through !== undefined && fill.through > entry.liveSeq && entry.fill === undefined) return this.#fill(entry, [], fill.through);
      return false;
    }
    if (!read.recovered || fill.overflowed) {
      this.#metrics.mesh.gapFills.inc({ outcome: "unrecovered" });
      this.#logger.warn({ threadId: entry.threadId, afterSeq: from, through, overflowed: fill.overflowed }, "thread events lost in transit; followers resume");
      for (const m of [...entry.members]) m.conn.close(CLOSE_GAP, gapCloseReason(m.threadId, m.delivered));
      // Whoever follows the thread from here on starts after the hole.
      entry.liveSeq = Math.max(entry.liveSeq, through ?? -Infinity);
      for (const msg of fill.held) this.#live(entry, msg);
      return false;
    }
    if (read.events.length > 0) this.#metrics.mesh.gapFills.inc({ outcome: "recovered" });
    for (const e of read.events) {
      const range = seqRange(e.headers as BusHeaders);
      if (range === null || range.last <= Math.max(entry.liveSeq, from)) continue;
      if (entry.members.size > 0) this.#dispatch(entry, entry.members, e, from);
      entry.liveSeq = range.last;
    }
    for (const msg of fill.held) this.#live(entry, msg);
    if (fill.through !== undefined && fill.through > entry.liveSeq && entry.fill === undefined) void this.#fill(entry, [], fill.through);
    return true;
  }

  /** The connection to the bus came back: whatever was published for followed threads meanwhile is read back. */
  #afterReconnect(): void {
    // A few reads at a time: a router following thousands of threads must not hit the log and the
    // owners with thousands of reads at once right after a blip.
    const refill = async () => {
      const due = [...this.#threads.values()];
      const next = async (): Promise<void> => {
        for (let entry = due.shift(); entry !== undefined; entry = due.shift()) {
          if (entry.fill === undefined && entry.members.size > 0 && Number.isFinite(entry.liveSeq)) await this.#fill(entry, [], undefined);
        }
      };
      await Promise.all(Array.from({ length: RECONNECT_REFILL_CONCURRENCY }, next));
    };
    void refill();
    refill();
    clearTimeout(this.#refillTimer);
    this.#refillTimer = setTimeout(() => void refill(), RECONNECT_REFILL_MS);
    this.#refillTimer.unref();
  }

  #hold(j: JoinerState, msg: BusMessage): void {
    if (j.overflowed) return;
    if (j.heldBytes + msg.data.length > this.#maxHeldBytes) {
      j.overflowed = true;
      j.held.length = 0;
      j.conn.countHeld(-j.heldBytes);
      j.heldBytes = 0;
      return;
    }
    j.heldBytes += msg.data.length;
    j.conn.countHeld(msg.data.length);
    j.held.push(msg);
  }

  /**
   * Hands one thread event to members: notifications as bytes, server requests with per-connection ids.
   * Frames whose seq is at or below `after` are skipped (already covered for these members).
   */
  #dispatch(entry: ThreadEntry, members: Iterable<Membership>, msg: EventLike, after = -Infinity): void {
    const h = msg.headers as BusHeaders;
    const kind = h[EventHeader.Kind];
    const seq = h[EventHeader.Seq];
    const last = seq === undefined ? NaN : Number(seq);
    // Each member gets each seq once: a replay may already have carried what the live feed repeats.
    const floorOf = (m: Membership) => Math.max(after, m.delivered);
    const covered = (m: Membership) => last <= floorOf(m);
    const advance = (m: Membership) => {
      if (seq === undefined) return;
      m.lastSeq = seq;
      if (last > m.delivered) m.delivered = last;
    };
    if (kind === "n") {
      const method = h[EventHeader.Method] ?? "";
      for (const m of members) {
        if (covered(m)) continue;
        if (m.conn.deliverEvent(msg.data, method, m.threadId, last)) advance(m);
      }
      return;
    }
    if (kind === "a") {
      this.#accessChanged(entry, members, h, covered, advance);
      return;
    }
    if (kind === "b") {
      // Split (and its deltas joined) once, for every member.
      let batch: SplitBatch | undefined;
      for (const m of members) {
        if (covered(m)) continue;
        batch ??= splitBatch(msg.data, Number(h[EventHeader.FirstSeq]));
        const floor = floorOf(m);
        // A member that has none of the batch yet gets the joined frames; one that has part of it (a
        // replay that overlaps the live feed) the rest of its events one by one.
        const list = this.#joinDeltas && floor < batch.frames[0]!.firstSeq ? batch.merged : batch.frames;
        for (const f of list) if (!(f.firstSeq <= floor)) m.conn.deliverEvent(f.frame, f.method, m.threadId, f.firstSeq);
        advance(m);
      }
      return;
    }
    const method = h[EventHeader.Method];
    const key = h[EventHeader.RequestKey];
    if (key === undefined || method === undefined) {
      this.#logger.warn({ kind, threadId: entry.threadId }, "thread event without request key or method");
      return;
    }
    if (kind === "r") {
      const params = TEXT_DECODER.decode(msg.data);
      // Only the thread's owner and the users it delegated to are asked (and may answer).
      const answerers = parseAnswerers(h[EventHeader.Answerers]);
      for (const m of members) {
        if (covered(m)) continue;
        if (m.conn.mayAnswer(answerers)) m.conn.sendServerRequest(entry.threadId, key, method, params);
        advance(m);
      }
    } else if (kind === "x") {
      const extra = numericExtra(seq, h[EventHeader.Epoch]);
      for (const m of members) {
        if (covered(m)) continue;
        m.conn.resolveServerRequest(entry.threadId, key, method, extra);
        advance(m);
      }
    } else {
      this.#logger.warn({ kind, threadId: entry.threadId }, "thread event of unknown kind");
    }
  }

  /**
   * The thread's sharing changed (kind `a`): members whose user may no longer see it are detached at
   * once (the owner is told, as when they close); those who may no longer answer its requests forget
   * them, with `serverRequest/resolved` so their prompts close; an answer to them is one to an unknown id.
   */
  #accessChanged(entry: ThreadEntry, members: Iterable<Membership>, h: BusHeaders, covered: (m: Membership) => boolean, advance: (m: Membership) => void): void {
    const audience = parseAudience(h[EventHeader.Audience]);
    const answerers = parseAnswerers(h[EventHeader.Answerers]);
    const extra = numericExtra(h[EventHeader.Seq], h[EventHeader.Epoch]);
    for (const m of [...members]) {
      if (covered(m)) continue;
      if (!m.conn.mayReceive(audience)) {
        this.#leave(m);
        this.#onAccessRevoked(m.conn, entry.threadId);
        continue;
      }
      if (!m.conn.mayAnswer(answerers)) {
        for (const r of m.conn.requests.ofThread(entry.threadId)) m.conn.resolveServerRequest(entry.threadId, r.requestKey, r.method, extra);
      }
      advance(m);
    }
  }

  #onBroadcast(tenant: string, conns: ReadonlySet<Connection>, msg: BusMessage): void {
    const h = msg.headers;
    if (h === undefined || h[EventHeader.Kind] !== "n") return;
    const threadId = h[EventHeader.ThreadId];
    const entry = threadId === undefined ? undefined : this.#threads.get(entryKey(tenant, threadId));
    if (entry !== undefined && !this.#acceptEpoch(entry, h)) return;
    const method = h[EventHeader.Method] ?? "";
    // A thread's broadcasts reach the tenant's administrators and the users who may see the thread.
    const audience = parseAudience(h[EventHeader.Audience]);
    if (entry === undefined) {
      for (const c of conns) if (c.initialized && c.mayReceive(audience)) c.deliverEvent(msg.data, method);
    } else {
      // Followers and joiners of the thread get its broadcasts in order with its other events, once.
      const joining = new Map<Connection, JoinerState>();
      for (const j of entry.joiners) joining.set(j.conn, j as JoinerState);
      for (const c of conns) {
        if (!c.initialized || c.memberships.has(entry.threadId) || !c.mayReceive(audience)) continue;
        const j = joining.get(c);
        if (j !== undefined) this.#hold(j, msg);
        else c.deliverEvent(msg.data, method);
      }
      this.#live(entry, msg);
    }
    const drop = h[EventHeader.DropSubscriptions];
    if (threadId !== undefined && drop !== undefined && drop !== "" && drop !== "0") this.dropThread(tenant, threadId);
  }
}

function entryKey(tenant: string, threadId: string): string {
  return `${tenant} ${threadId}`;
}

/** `seq` and `epoch` as the extra top-level members of a router-made notification. */
function numericExtra(seq: string | undefined, epoch: string | undefined): Record<string, number> | undefined {
  const s = seq === undefined ? NaN : Number(seq);
  const e = epoch === undefined ? NaN : Number(epoch);
  if (Number.isFinite(s) && Number.isFinite(e)) return { seq: s, epoch: e };
  if (Number.isFinite(s)) return { seq: s };
  if (Number.isFinite(e)) return { epoch: e };
  return undefined;
}
