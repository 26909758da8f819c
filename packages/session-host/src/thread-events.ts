import type { Bus, BusHeaders } from "@threadmesh/mesh";
import type { RecentEvent, RecentEvents } from "./recent-events.ts";
import type { DeltaLinger } from "./capacity/delta-linger.ts";
import {
  BROADCAST_NOTIFICATIONS,
  EventHeader,
  broadcastSubject,
  encodeNotification,
  threadEventSubject,
} from "@threadmesh/protocol";

/** Options of {@link ThreadEvents}. */
export interface ThreadEventsOptions {
  bus: Bus;
  tenant: string;
  threadId: string;
  /** Owner epoch stamped on every event. */
  epoch: number;
  /** Last sequence number already used for this thread; the next event gets `lastSeq + 1`. */
  lastSeq: number;
  /** Called with the number of frames of each multi-frame batch published (metrics). */
  onBatch?: (frames: number) => void;
  /** Called when a publish fails (bus closed); events are never retried. */
  onPublishError?: (err: unknown) => void;
  /** Checked before every publish: false while this host may no longer speak for the thread. */
  isCurrent?: () => boolean;
  /** The users besides administrators who may see the thread (stamped on broadcasts); absent: everyone in the tenant. */
  audience?: () => readonly string[];
  /** Who may answer the thread's server requests (stamped on them; `null`: user-less credentials); absent: every follower. */
  answerers?: () => ReadonlyArray<string | null>;
  /** Keeps the newest events published, for routers whose feed lost some. */
  recent?: RecentEvents;
  /** Holds a read's streamed deltas back for a moment so that several travel together; absent: published at once. */
  linger?: DeltaLinger;
}

/**
 * Params already serialised: {@link ThreadEvents.notify} takes the JSON as it is. A streamed delta's
 * params differ from the previous one's only in the text, so its producer serialises the rest once.
 */
export class EncodedParams {
  constructor(readonly json: string) {}
}

/** Notifications that may linger: streamed text, merged by the routers into one frame per client. */
const LINGERING = new Set(["item/agentMessage/delta", "item/reasoning/summaryTextDelta", "item/reasoning/textDelta", "item/plan/delta"]);

const EMPTY = new Uint8Array(0);

/**
 * `{"method":<method>,"params":` per method: a frame is this, the params, `emittedAtMs`, `seq` and
 * `epoch` — the bytes `encodeNotification(method, params, { seq, epoch })` gives, with the method
 * escaped once per method instead of once per event. Methods are a closed set; the cache is bounded anyway.
 */
const FRAME_HEADS = new Map<string, string>();
const MAX_FRAME_HEADS = 256;

function frameHead(method: string): string {
  let head = FRAME_HEADS.get(method);
  if (head === undefined) {
    head = `{"method":${JSON.stringify(method)},"params":`;
    if (FRAME_HEADS.size < MAX_FRAME_HEADS) FRAME_HEADS.set(method, head);
  }
  return head;
}

/**
 * UTF-8 bytes of a frame. `Buffer.from` takes small results from Node's shared pool instead of a
 * fresh allocation per event; the bytes are read only (buses copy what they send, the recent-events
 * answer decodes them).
 */
function utf8(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}
/** A batch is published early once its frames reach this size. */
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * The publisher of one thread's events: a narrow capability handed to the thread's actor instead of the
 * bus. Every event gets the next per-thread `seq` (strictly increasing, shared by notifications, server
 * requests and resolutions) and the owner `epoch`. A notification is serialised exactly once and its
 * bytes published; routers read only the headers.
 */
export class ThreadEvents {
  readonly threadId: string;
  #seq: number;
  readonly #bus: Bus;
  readonly #epoch: number;
  readonly #epochText: string;
  readonly #threadSubject: string;
  readonly #broadcastSubject: string;
  readonly #onPublishError: (err: unknown) => void;
  readonly #onBatch: ((frames: number) => void) | undefined;
  readonly #isCurrent: () => boolean;
  readonly #recent: RecentEvents | undefined;
  readonly #audience: (() => readonly string[]) | undefined;
  readonly #answerers: (() => ReadonlyArray<string | null>) | undefined;
  readonly #linger: DeltaLinger | undefined;
  /** The last publish held only streamed deltas: the next read of the stream may linger. */
  #streaming = false;
  /** Every frame of the batch is a streamed delta (it may linger). */
  #batchLingers = true;
  #silenced = false;
  /** Id of the turn running on the thread, stamped on every event (`tm-a`); null while idle. */
  #activeTurn: string | null = null;
  /** Depth of {@link cork} calls; while above zero thread notifications collect in the batch. */
  #corked = 0;
  #batch: string[] = [];
  /** Events that must precede whatever the thread publishes next (see {@link announce}). */
  #announcement: (() => void) | undefined;
  #batchMethod = "";
  #batchBytes = 0;

  constructor(opts: ThreadEventsOptions) {
    this.threadId = opts.threadId;
    this.#bus = opts.bus;
    this.#seq = opts.lastSeq;
    this.#epoch = opts.epoch;
    this.#epochText = String(opts.epoch);
    this.#threadSubject = threadEventSubject(opts.tenant, opts.threadId);
    this.#broadcastSubject = broadcastSubject(opts.tenant, opts.threadId);
    this.#onPublishError = opts.onPublishError ?? (() => {});
    this.#onBatch = opts.onBatch;
    this.#isCurrent = opts.isCurrent ?? (() => true);
    this.#recent = opts.recent;
    this.#audience = opts.audience;
    this.#answerers = opts.answerers;
    this.#linger = opts.linger;
  }

  /** Publishes nothing from now on: the thread belongs to another owner. */
  silence(): void {
    this.#silenced = true;
    this.#recent?.clear();
  }

  /** The newest events this owner published whose last seq is above `afterSeq` (as many as it kept). */
  recentAfter(afterSeq: number): RecentEvent[] {
    return this.#recent?.after(afterSeq) ?? [];
  }

  /** Lets go of the events kept (the thread unloads). */
  forgetRecent(): void {
    this.#recent?.clear();
  }

  /** Last sequence number used. */
  get lastSeq(): number {
    return this.#seq;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Sets the turn running on the thread: every event published from now on names it, so the window's
   * newest event tells an adopting host whether a turn was running even when its start never reached the
   * store. A batch carries the state at its flush (a turn's closing batch: none).
   */
  set activeTurn(turnId: string | null) {
    this.#activeTurn = turnId;
  }

  /**
   * Publishes a notification (`params` an object, or {@link EncodedParams}): to the tenant's broadcast subject for the broadcast methods
   * (`thread/started`, `thread/status/changed`, …), else to the thread's event subject.
   * `dropSubscriptions` marks the event that ends every subscription to the thread (archive, delete, close).
   */
  notify(method: string, params: unknown, dropSubscriptions = false): void {
    if (this.#announcement !== undefined) this.announceNow();
    const broadcast = BROADCAST_NOTIFICATIONS.has(method);
    if (broadcast || dropSubscriptions || this.#corked === 0) this.flush();
    const seq = ++this.#seq;
    const body = params instanceof EncodedParams ? params.json : JSON.stringify(params);
    const frame = `${frameHead(method)}${body},"emittedAtMs":${Date.now()},"seq":${seq},"epoch":${this.#epochText}}`;
    if (this.#corked > 0 && !broadcast && !dropSubscriptions) {
      this.#batch.push(frame);
      if (!LINGERING.has(method)) this.#batchLingers = false;
      this.#batchMethod = method;
      this.#batchBytes += frame.length;
      if (this.#batchBytes >= MAX_BATCH_BYTES) this.flush();
      return;
    }
    const headers: BusHeaders = {
      [EventHeader.Method]: method,
      [EventHeader.Kind]: "n",
      [EventHeader.ThreadId]: this.threadId,
      [EventHeader.Seq]: String(seq),
      [EventHeader.Epoch]: this.#epochText,
    };
    if (dropSubscriptions) headers[EventHeader.DropSubscriptions] = "1";
    if (this.#activeTurn !== null) headers[EventHeader.ActiveTurn] = this.#activeTurn;
    if (broadcast && this.#audience !== undefined) headers[EventHeader.Audience] = JSON.stringify(this.#audience());
    this.#streaming = false;
    this.#publish(broadcast ? this.#broadcastSubject : this.#threadSubject, utf8(frame), headers);
  }

  /**
   * Holds `emit` back until the thread's next event, whatever raises it, or until {@link announceNow}:
   * it raises its events first, so they keep their place in the thread's order while work that can go
   * ahead of them (sending the model request) does. Replaces an announcement still held.
   */
  announce(emit: () => void): void {
    this.#announcement = emit;
  }

  /** Raises the held announcement, if any. */
  announceNow(): void {
    const emit = this.#announcement;
    if (emit === undefined) return;
    this.#announcement = undefined;
    emit();
  }

  /**
   * Collects the thread's notifications until the matching {@link uncork}: they travel as one bus
   * message (kind `b`: consecutive frames joined by newlines). The model stream corks around each
   * network chunk, so the deltas of one read cost one publish. Broadcasts, server requests and
   * resolutions flush the batch first, so order is kept.
   */
  cork(): void {
    this.#corked++;
  }

  uncork(): void {
    if (this.#corked > 0 && --this.#corked === 0) {
      // Streamed deltas wait for the linger tick, joined by those of the next reads; anything else goes
      // now. The first read of a stream goes at once too, so lingering never delays a first delta.
      if (this.#linger !== undefined && this.#batchLingers && this.#batch.length > 0 && this.#streaming) {
        this.#linger.schedule(this);
      } else {
        this.flush();
      }
    }
  }

  /** Publishes the collected notifications now, after a held announcement (a thread handed over mid-start keeps it). */
  flush(): void {
    if (this.#announcement !== undefined) this.announceNow();
    const n = this.#batch.length;
    if (n === 0) return;
    const frames = this.#batch;
    this.#streaming = this.#batchLingers;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchLingers = true;
    const last = this.#seq;
    const headers: BusHeaders = {
      [EventHeader.Kind]: n === 1 ? "n" : "b",
      [EventHeader.ThreadId]: this.threadId,
      [EventHeader.Seq]: String(last),
      [EventHeader.Epoch]: this.#epochText,
    };
    if (n === 1) headers[EventHeader.Method] = this.#batchMethod;
    else {
      headers[EventHeader.FirstSeq] = String(last - n + 1);
      this.#onBatch?.(n);
    }
    if (this.#activeTurn !== null) headers[EventHeader.ActiveTurn] = this.#activeTurn;
    this.#publish(this.#threadSubject, utf8(n === 1 ? frames[0]! : frames.join("\n")), headers);
  }

  /** Publishes a server request (kind `r`); the payload is its params JSON. */
  request(requestKey: string, method: string, paramsJson: string): void {
    this.flush();
    const headers = this.#headers("r", method, requestKey);
    if (this.#answerers !== undefined) headers[EventHeader.Answerers] = JSON.stringify(this.#answerers());
    this.#publish(this.#threadSubject, utf8(paramsJson), headers);
  }

  /**
   * Publishes who may now see the thread and answer its requests (kind `a`), after its sharing changed:
   * routers detach the followers left out at once and forget the requests they may no longer answer.
   */
  accessChanged(): void {
    this.flush();
    const headers: BusHeaders = {
      [EventHeader.Kind]: "a",
      [EventHeader.ThreadId]: this.threadId,
      [EventHeader.Seq]: String(++this.#seq),
      [EventHeader.Epoch]: this.#epochText,
    };
    if (this.#audience !== undefined) headers[EventHeader.Audience] = JSON.stringify(this.#audience());
    if (this.#answerers !== undefined) headers[EventHeader.Answerers] = JSON.stringify(this.#answerers());
    if (this.#activeTurn !== null) headers[EventHeader.ActiveTurn] = this.#activeTurn;
    this.#publish(this.#threadSubject, EMPTY, headers);
  }

  /** Publishes the resolution of a server request (kind `x`), carrying the original method. */
  resolved(requestKey: string, method: string): void {
    this.flush();
    this.#publish(this.#threadSubject, EMPTY, this.#headers("x", method, requestKey));
  }

  #headers(kind: "r" | "x", method: string, requestKey: string): BusHeaders {
    const headers: BusHeaders = {
      [EventHeader.Method]: method,
      [EventHeader.Kind]: kind,
      [EventHeader.ThreadId]: this.threadId,
      [EventHeader.Seq]: String(++this.#seq),
      [EventHeader.Epoch]: this.#epochText,
      [EventHeader.RequestKey]: requestKey,
    };
    if (this.#activeTurn !== null) headers[EventHeader.ActiveTurn] = this.#activeTurn;
    return headers;
  }

  #publish(subject: string, data: Uint8Array, headers: BusHeaders): void {
    if (this.#silenced || !this.#isCurrent()) return;
    try {
      this.#bus.publish(subject, data, headers);
      this.#recent?.add({ subject, headers, data });
    } catch (err) {
      this.#onPublishError(err);
    }
  }
}

/** A requester-only notification (`before`/`after` of a reply): serialised, never published, no seq. */
export function requesterNotification(method: string, params: unknown): string {
  return encodeNotification(method, params);
}
