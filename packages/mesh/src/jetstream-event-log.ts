import pRetry from "p-retry";
import { joinParts } from "./message-parts.ts";
import { setUpJetStream } from "./kv-bucket.ts";
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type NextMsgRequest,
  type SeqMsgRequest,
  type StoredMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { EVENT_STREAM_SUBJECT, broadcastSubject, threadEventSubject, threadReplayFilter } from "@threadmesh/protocol";
import type { BusHeaders } from "./bus.ts";
import { DEFAULT_REPLAY_WINDOW, newerTail, seqRange, tailOf, type EventLog, type EventTail, type LoggedEvent, type ReplayWindow } from "./event-log.ts";

export interface JetStreamEventLogOptions extends Partial<ReplayWindow> {
  /** Stream name; default `TM_EVENTS`. */
  stream?: string;
  /** Stream replicas (3 on a clustered NATS); default 1. */
  replicas?: number;
  /** Longest a replay read may take before it gives up with what it has; default 2 s. */
  readTimeoutMs?: number;
}

const NANOS_PER_MS = 1_000_000;
/** Messages pulled per request while reading a thread back. */
const READ_BATCH = 1_000;
const STREAM_NOT_FOUND = 10059;
/**
 * The start search stops once its bounds are this many stream sequences apart: reading up to that many
 * extra messages costs less than more lookups (one request each).
 */
const SEARCH_SLACK = 64;

/** A stored message of a thread: its stream sequence and the last `seq` it covers. */
interface Located {
  streamSeq: number;
  last: number;
}

function located(m: StoredMsg | null): Located | null {
  if (m === null) return null;
  return { streamSeq: m.seq, last: seqRange(toHeaders(m.header))?.last ?? 0 };
}

/**
 * {@link EventLog} over a JetStream stream that captures the thread event and broadcast subjects.
 * Hosts keep publishing plain NATS messages (no per-event acknowledgement on the delta path); the
 * stream stores what the server routes, so the live feed and the window never disagree. The window is
 * the stream's own limits: `max_age` and `max_msgs_per_subject` (a subject is one thread's events or
 * broadcasts). Reads use an ordered consumer filtered on the thread.
 */
export class JetStreamEventLog implements EventLog {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #readTimeoutMs: number;

  private constructor(js: JetStreamClient, jsm: JetStreamManager, stream: string, readTimeoutMs: number) {
    this.#js = js;
    this.#jsm = jsm;
    this.#stream = stream;
    this.#readTimeoutMs = readTimeoutMs;
  }

  /** Creates the stream, or brings an existing one to the configured window. */
  static async open(nc: NatsConnection, opts: JetStreamEventLogOptions = {}): Promise<JetStreamEventLog> {
    const window = { ...DEFAULT_REPLAY_WINDOW, ...stripUndefined(opts) };
    const stream = opts.stream ?? "TM_EVENTS";
    const jsm = await jetstreamManager(nc);
    const config: Partial<StreamConfig> & { name: string } = {
      name: stream,
      subjects: [EVENT_STREAM_SUBJECT],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: window.maxAgeMs * NANOS_PER_MS,
      max_msgs_per_subject: window.maxEventsPerThread,
      num_replicas: opts.replicas ?? 1,
      duplicate_window: Math.min(window.maxAgeMs, 60_000) * NANOS_PER_MS,
    };
    await setUpJetStream(async () => {
      try {
        await jsm.streams.info(stream);
        await jsm.streams.update(stream, config);
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NOT_FOUND) throw err;
        await jsm.streams.add(config);
      }
    });
    return new JetStreamEventLog(jetstream(nc), jsm, stream, opts.readTimeoutMs ?? 2_000);
  }

  /**
   * Reads from the first stored message that reaches past `afterSeq` (see {@link #startAfter}) rather
   * than from the start of the window: a resume usually misses the end of a long window, and the
   * consumer's cost is per message read.
   */
  async read(tenant: string, threadId: string, afterSeq: number): Promise<LoggedEvent[]> {
    const filter = threadReplayFilter(tenant, threadId);
    const start = await this.#startAfter(tenant, threadId, afterSeq);
    if (start === null) return [];
    if (start.searched) {
      const out = await this.#readFrom(filter, start.streamSeq, afterSeq);
      // The search assumes seqs grow along the stream. A superseded owner publishing late breaks
      // that and may mislead it past the gap's first event: then the whole window is read, as the
      // caller's continuity check needs.
      const first = out.length > 0 ? seqRange(out[0]!.headers) : null;
      if (first !== null && first.first <= afterSeq + 1) return out;
    }
    return this.#readFrom(filter, 0, afterSeq);
  }

  /**
   * Where a read after `afterSeq` starts: the stream sequence of the thread's first message when that
   * one already reaches past `afterSeq` (or when the search is not worth it), else a position found by
   * bisecting the stream sequences between the thread's first and last messages with "next message of
   * the thread at or after" lookups (a few small requests instead of reading the window). Null when
   * the window holds nothing after `afterSeq`.
   */
  async #startAfter(tenant: string, threadId: string, afterSeq: number): Promise<{ streamSeq: number; searched: boolean } | null> {
    const filter = threadReplayFilter(tenant, threadId);
    const [first, ...lasts] = await Promise.all([
      this.#nextAt(filter, 1),
      this.#lastOf(threadEventSubject(tenant, threadId)),
      this.#lastOf(broadcastSubject(tenant, threadId)),
    ]);
    if (first === null) return null;
    if (first.last > afterSeq) return { streamSeq: first.streamSeq, searched: false };
    const ends = lasts.filter((m): m is Located => m !== null && m.last > afterSeq).map((m) => m.streamSeq);
    if (ends.length === 0) return null;
    // lo: a message of the thread that ends at or before afterSeq; every message the read needs lies after it.
    let lo = first.streamSeq;
    let hi = Math.min(...ends);
    while (hi - lo > SEARCH_SLACK) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await this.#nextAt(filter, mid);
      if (m === null || m.streamSeq >= hi) hi = mid;
      else if (m.last > afterSeq) hi = m.streamSeq;
      else lo = m.streamSeq;
    }
    return { streamSeq: lo + 1, searched: true };
  }

  /** The thread's first message at or after stream sequence `streamSeq` (filters may be wildcards). */
  async #nextAt(filter: string, streamSeq: number): Promise<Located | null> {
    // STREAM.MSG.GET has taken `next_by_subj` since nats-server 2.9; the client's types only name it for direct gets.
    const query: SeqMsgRequest & NextMsgRequest = { seq: streamSeq, next_by_subj: filter };
    return located(await this.#jsm.streams.getMessage(this.#stream, query));
  }

  async #lastOf(subject: string): Promise<Located | null> {
    return located(await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: subject }));
  }

  /** The thread's messages from stream sequence `fromStreamSeq` (0: the whole window) that end after `afterSeq`. */
  async #readFrom(filter: string, fromStreamSeq: number, afterSeq: number): Promise<LoggedEvent[]> {
    const consumer = await this.#js.consumers.get(
      this.#stream,
      fromStreamSeq > 0
        ? { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromStreamSeq }
        : { filter_subjects: filter, deliver_policy: DeliverPolicy.All },
    );
    let remaining = (await consumer.info(true)).num_pending;
    const out: LoggedEvent[] = [];
    const deadline = Date.now() + this.#readTimeoutMs;
    try {
      while (remaining > 0 && Date.now() < deadline) {
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, READ_BATCH), expires: Math.max(1_000, deadline - Date.now()) });
        let got = 0;
        for await (const m of batch) {
          got++;
          remaining = m.info.pending;
          const headers = toHeaders(m.headers);
          const range = seqRange(headers);
          if (range !== null && range.last > afterSeq) out.push({ subject: m.subject, data: m.data, headers });
          if (remaining === 0) break;
        }
        if (got === 0) break;
      }
    } finally {
      // Not awaited: the events are read, and the ephemeral consumer would expire on its own anyway.
      void consumer.delete().catch(() => {});
    }
    // A message too large for one NATS message was captured as its parts.
    return joinParts(out);
  }

  /**
   * The newest event the window holds for the thread; null when it holds none. A failed read rejects
   * (after retries): an adopting owner must never number its events from a floor it could not read.
   */
  async tail(tenant: string, threadId: string): Promise<EventTail | null> {
    const tails = await Promise.all(
      [threadEventSubject(tenant, threadId), broadcastSubject(tenant, threadId)].map((subject) =>
        pRetry(
          async () => {
            try {
              const m = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: subject });
              return m === null ? null : tailOf(toHeaders(m.header));
            } catch (err) {
              if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
              throw err;
            }
          },
          { retries: 3, minTimeout: 50, maxTimeout: 500 },
        ),
      ),
    );
    return newerTail(tails[0]!, tails[1]!);
  }

  async close(): Promise<void> {}
}

function toHeaders(h: MsgHdrs | undefined): BusHeaders {
  const out: BusHeaders = {};
  if (h === undefined) return out;
  for (const [key, values] of h) if (values[0] !== undefined) out[key] = values[0];
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
