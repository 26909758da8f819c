import type { Thread, Turn } from "@threadmesh/protocol";
import { EventQueue } from "./event-queue.ts";
import type { MethodName, RequestParams, ResultOf } from "./methods.ts";
import { toInput, TurnHandle, type TurnEvent, type TurnInput } from "./turn.ts";

/** Requests on the client, as a thread and its turns use them. */
export interface ThreadHost {
  request<M extends MethodName>(method: M, params: RequestParams<M>, opts?: { signal?: AbortSignal }): Promise<ResultOf<M>>;
  forget(threadId: string): void;
}

/** Reported after a reconnect whose replay could not cover what this client missed; `thread` is reloaded. */
export interface ResyncEvent {
  recovered: false;
  thread: Thread;
}

export type TurnStartOptions = Omit<RequestParams<"turn/start">, "threadId" | "input"> & { signal?: AbortSignal };

/**
 * A thread this client follows. Its events arrive once each, in order, across reconnects: after a
 * reconnect the client resumes it with `afterSeq` = {@link lastSeq}.
 */
export class ThreadHandle {
  readonly id: string;
  /** The thread as last loaded (start, resume, or the reload after an unrecovered gap). */
  thread: Thread;
  /** Highest event `seq` seen; 0 before the first. */
  lastSeq = 0;
  readonly turn: { start: (input: TurnInput, opts?: TurnStartOptions) => Promise<TurnHandle> };
  readonly #host: ThreadHost;
  readonly #listeners = new Set<(ev: TurnEvent) => void>();
  readonly #resyncListeners = new Set<(ev: ResyncEvent) => void>();
  readonly #turns = new Map<string, TurnHandle>();
  /** Events buffered while a turn/start is in flight: the turn's first events may precede its response. */
  readonly #captures = new Set<TurnEvent[]>();
  readonly #queues = new Set<EventQueue<TurnEvent>>();
  #closed = false;

  constructor(host: ThreadHost, thread: Thread) {
    this.#host = host;
    this.id = thread.id;
    this.thread = thread;
    this.turn = { start: (input, opts) => this.#startTurn(input, opts) };
  }

  /** Every event of the thread from now on (until the client or the handle closes). */
  events(): AsyncIterable<TurnEvent> {
    const q = new EventQueue<TurnEvent>();
    if (this.#closed) q.end();
    this.#queues.add(q);
    const off = this.on((ev) => q.push(ev));
    return {
      [Symbol.asyncIterator]: () => {
        const it = q[Symbol.asyncIterator]();
        return { next: () => it.next(), return: () => (off(), this.#queues.delete(q), it.return!()) };
      },
    };
  }

  /** Calls `listener` with each event of the thread; returns the unsubscribe. */
  on(listener: (ev: TurnEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` when a reconnect could not replay every missed event and the thread was reloaded. */
  onResync(listener: (ev: ResyncEvent) => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  /** The turns started through this handle that have not ended. */
  get runningTurns(): TurnHandle[] {
    return [...this.#turns.values()].filter((t) => !t.ended);
  }

  read(opts: { includeTurns?: boolean; signal?: AbortSignal } = {}): Promise<ResultOf<"thread/read">> {
    return this.#host.request("thread/read", { threadId: this.id, includeTurns: opts.includeTurns ?? true }, { signal: opts.signal });
  }

  setName(name: string): Promise<ResultOf<"thread/name/set">> {
    return this.#host.request("thread/name/set", { threadId: this.id, name });
  }

  /** Stops following the thread (server side too). */
  async unsubscribe(): Promise<void> {
    this.#host.forget(this.id);
    this.close(new Error("unsubscribed"));
    await this.#host.request("thread/unsubscribe", { threadId: this.id });
  }

  async #startTurn(input: TurnInput, opts: TurnStartOptions = {}): Promise<TurnHandle> {
    const { signal, ...rest } = opts;
    const captured: TurnEvent[] = [];
    this.#captures.add(captured);
    try {
      const r = await this.#host.request("turn/start", { ...rest, threadId: this.id, input: toInput(input) }, { signal });
      const handle = new TurnHandle(this.#host, this.id, r.turn);
      this.#turns.set(handle.id, handle);
      for (const ev of captured) if (turnIdOf(ev) === handle.id) handle.deliver(ev);
      return handle;
    } finally {
      this.#captures.delete(captured);
    }
  }

  /** @internal False for an event already delivered (a repeat). */
  accept(seq: number | null): boolean {
    if (seq === null) return true;
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    return true;
  }

  /** @internal */
  deliver(ev: TurnEvent): void {
    if (this.#closed) return;
    for (const c of this.#captures) c.push(ev);
    const turnId = turnIdOf(ev);
    if (turnId !== undefined) this.#turns.get(turnId)?.deliver(ev);
    for (const l of this.#listeners) l(ev);
    if (ev.method === "thread/deleted" || ev.method === "thread/closed") this.#host.forget(this.id);
  }

  /** @internal A reload after an unrecovered gap: ends the turns the snapshot shows ended. */
  resynced(thread: Thread): void {
    this.thread = thread;
    const byId = new Map<string, Turn>(thread.turns.map((t) => [t.id, t]));
    for (const handle of this.#turns.values()) {
      const t = byId.get(handle.id);
      if (t !== undefined && t.status !== "inProgress") handle.finish(t);
    }
    for (const l of this.#resyncListeners) l({ recovered: false, thread });
  }

  /** @internal */
  close(err: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#turns.values()) t.abandon(err);
    for (const q of this.#queues) q.end();
    this.#queues.clear();
  }
}

function turnIdOf(ev: TurnEvent): string | undefined {
  const p = ev.params as { turnId?: unknown; turn?: { id?: unknown } } | null;
  if (p === null || typeof p !== "object") return undefined;
  if (typeof p.turnId === "string") return p.turnId;
  return typeof p.turn?.id === "string" ? p.turn.id : undefined;
}
