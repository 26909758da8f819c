import { BROADCAST_WILDCARD, THREAD_EVENT_WILDCARD } from "@threadmesh/protocol";
import type { Bus, BusMessage, Subscription } from "./bus.ts";
import { DEFAULT_REPLAY_WINDOW, newerTail, seqRange, tailOf, type EventLog, type EventTail, type LoggedEvent, type ReplayWindow } from "./event-log.ts";

interface Held extends LoggedEvent {
  readonly at: number;
  readonly last: number;
}

/** A thread's events by subject kind; each list is bounded on its own, like a stream's per-subject limit. */
interface ThreadLog {
  readonly evt: Held[];
  readonly bcast: Held[];
}

const CAPTURED = [THREAD_EVENT_WILDCARD, BROADCAST_WILDCARD];

/**
 * {@link EventLog} for one process (the embedded mesh): it subscribes the event subjects of an
 * in-process bus and keeps a ring per thread, bounded by count per subject and by age. Threads whose
 * newest event left the window are forgotten by a periodic sweep.
 */
export class MemoryEventLog implements EventLog {
  readonly #window: ReplayWindow;
  readonly #threads = new Map<string, ThreadLog>();
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
    const pick = (list: Held[]) => list.filter((e) => e.last > afterSeq);
    return [...pick(log.evt), ...pick(log.bcast)].sort((a, b) => a.last - b.last).map(({ subject, data, headers }) => ({ subject, data, headers }));
  }

  async tail(tenant: string, threadId: string): Promise<EventTail | null> {
    const log = this.#live(tenant, threadId);
    if (log === undefined) return null;
    const last = (list: Held[]) => (list.length === 0 ? null : tailOf(list.at(-1)!.headers));
    return newerTail(last(log.evt), last(log.bcast));
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const s of this.#subs) s.unsubscribe();
    this.#threads.clear();
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
    const [, , tenant = "", , threadId = "", kind = ""] = msg.subject.split(".");
    const k = key(tenant, threadId);
    let log = this.#threads.get(k);
    if (log === undefined) this.#threads.set(k, (log = { evt: [], bcast: [] }));
    const list = kind === "b" ? log.bcast : log.evt;
    list.push({ subject: msg.subject, data: msg.data, headers, at: Date.now(), last: range.last });
    if (list.length > this.#window.maxEventsPerThread) list.splice(0, list.length - this.#window.maxEventsPerThread);
  }

  #expire(log: ThreadLog): void {
    const cutoff = Date.now() - this.#window.maxAgeMs;
    for (const list of [log.evt, log.bcast]) {
      let n = 0;
      while (n < list.length && list[n]!.at < cutoff) n++;
      if (n > 0) list.splice(0, n);
    }
  }

  #expireAll(): void {
    for (const [k, log] of this.#threads) {
      this.#expire(log);
      if (log.evt.length === 0 && log.bcast.length === 0) this.#threads.delete(k);
    }
  }
}

function key(tenant: string, threadId: string): string {
  return `${tenant} ${threadId}`;
}
