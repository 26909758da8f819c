import { BROADCAST_WILDCARD, THREAD_EVENT_WILDCARD } from "@threadmesh/protocol";
import type { Bus, BusMessage, Subscription } from "./bus.ts";
import { DEFAULT_REPLAY_WINDOW, newerTail, seqRange, tailOf, type EventLog, type EventTail, type LoggedEvent, type ReplayWindow } from "./event-log.ts";
import { EventRing } from "./event-ring.ts";

/** A thread's events by subject kind; each ring is bounded on its own, like a stream's per-subject limit. */
interface ThreadLog {
  readonly evt: EventRing;
  readonly bcast: EventRing;
  /** The subjects it was captured from, as keys of the subject index. */
  readonly subjects: string[];
}

const CAPTURED = [THREAD_EVENT_WILDCARD, BROADCAST_WILDCARD];

/**
 * {@link EventLog} for one process (the embedded mesh): it subscribes the event subjects of an
 * in-process bus and keeps a ring per thread, bounded by count per subject and by age, its events
 * encoded outside the JavaScript heap ({@link EventRing}). Threads whose newest event left the window
 * are forgotten by a periodic sweep.
 */
export class MemoryEventLog implements EventLog {
  readonly #window: ReplayWindow;
  readonly #threads = new Map<string, ThreadLog>();
  /** Each captured subject's thread, so that a capture does not parse its subject. */
  readonly #bySubject = new Map<string, ThreadLog>();
  readonly #subs: Subscription[];
  readonly #sweep: NodeJS.Timeout;

  constructor(bus: Bus, window: Partial<ReplayWindow> = {}) {
    this.#window = { ...DEFAULT_REPLAY_WINDOW, ...window };
    this.#subs = CAPTURED.map((s) => bus.subscribe(s, (m) => this.#capture(m)));
    this.#sweep = setInterval(() => this.#expireAll(), Math.max(1_000, Math.min(60_000, this.#window.maxAgeMs))).unref();
  }

  async read(tenant: string, threadId: string, afterSeq: number): Promise<LoggedEvent[]> {
    const log = this.#live(tenant, threadId);
    if (log === undefined) return [];
    const picked: Array<{ last: number; event: LoggedEvent }> = [];
    const pick = (last: number, event: LoggedEvent) => picked.push({ last, event });
    log.evt.forEachAfter(afterSeq, pick);
    log.bcast.forEachAfter(afterSeq, pick);
    return picked.sort((a, b) => a.last - b.last).map((p) => p.event);
  }

  async tail(tenant: string, threadId: string): Promise<EventTail | null> {
    const log = this.#live(tenant, threadId);
    if (log === undefined) return null;
    const last = (ring: EventRing) => {
      const headers = ring.newestHeaders;
      return headers === null ? null : tailOf(headers);
    };
    return newerTail(last(log.evt), last(log.bcast));
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const s of this.#subs) s.unsubscribe();
    this.#threads.clear();
    this.#bySubject.clear();
  }

  #live(tenant: string, threadId: string): ThreadLog | undefined {
    const log = this.#threads.get(key(tenant, threadId));
    if (log !== undefined) this.#expire(log);
    return log;
  }

  #capture(msg: BusMessage): void {
    const headers = msg.headers;
    const range = headers === undefined ? null : seqRange(headers);
    if (headers === undefined || range === null) return;
    const subject = msg.subject;
    let log = this.#bySubject.get(subject);
    if (log === undefined) {
      const [, , tenant = "", , threadId = ""] = subject.split(".");
      const k = key(tenant, threadId);
      log = this.#threads.get(k);
      if (log === undefined) this.#threads.set(k, (log = { evt: new EventRing(), bcast: new EventRing(), subjects: [] }));
      log.subjects.push(subject);
      this.#bySubject.set(subject, log);
    }
    const ring = subject.endsWith(".b") ? log.bcast : log.evt;
    ring.push(msg.subject, msg.data, headers, Date.now(), range.last);
    if (ring.count > this.#window.maxEventsPerThread) ring.keepNewest(this.#window.maxEventsPerThread);
  }

  #expire(log: ThreadLog): void {
    const cutoff = Date.now() - this.#window.maxAgeMs;
    log.evt.expire(cutoff);
    log.bcast.expire(cutoff);
  }

  #expireAll(): void {
    for (const [k, log] of this.#threads) {
      this.#expire(log);
      if (log.evt.count === 0 && log.bcast.count === 0) {
        this.#threads.delete(k);
        for (const subject of log.subjects) this.#bySubject.delete(subject);
      }
    }
  }
}

function key(tenant: string, threadId: string): string {
  return `${tenant} ${threadId}`;
}
