import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { EVENT_STREAM_SUBJECT, broadcastSubject, threadEventSubject, threadReplayFilter } from "@threadmesh/protocol";
import type { BusHeaders } from "./bus.ts";
import { DEFAULT_REPLAY_WINDOW, seqRange, type EventLog, type LoggedEvent, type ReplayWindow } from "./event-log.ts";

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
    try {
      await jsm.streams.info(stream);
      await jsm.streams.update(stream, config);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NOT_FOUND) throw err;
      await jsm.streams.add(config);
    }
    return new JetStreamEventLog(jetstream(nc), jsm, stream, opts.readTimeoutMs ?? 2_000);
  }

  async read(tenant: string, threadId: string, afterSeq: number): Promise<LoggedEvent[]> {
    const consumer = await this.#js.consumers.get(this.#stream, {
      filter_subjects: threadReplayFilter(tenant, threadId),
      deliver_policy: DeliverPolicy.All,
    });
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
      await consumer.delete().catch(() => {});
    }
    return out;
  }

  async lastSeq(tenant: string, threadId: string): Promise<number> {
    const lasts = await Promise.all(
      [threadEventSubject(tenant, threadId), broadcastSubject(tenant, threadId)].map(async (subject) => {
        try {
          const m = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: subject });
          return m === null ? 0 : (seqRange(toHeaders(m.header))?.last ?? 0);
        } catch {
          return 0;
        }
      }),
    );
    return Math.max(...lasts);
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
