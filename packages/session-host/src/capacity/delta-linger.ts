/** Something holding deltas back until the next {@link DeltaLinger} tick. */
export interface Lingering {
  flush(): void;
}

/**
 * The host's shared clock for publishing streamed deltas a little late. At model speed a thread's
 * deltas arrive one network read at a time, each one a bus message and a WebSocket frame of its own;
 * held back for at most `lingerMs`, those of one thread travel together (a batch the routers merge
 * into one frame per client), so a turn costs several times fewer messages for a bounded added latency.
 * One timer serves every thread: a tick publishes whatever lingered since the previous one.
 */
export class DeltaLinger {
  readonly lingerMs: number;
  readonly #pending = new Set<Lingering>();
  #timer: NodeJS.Timeout | undefined;

  constructor(lingerMs: number) {
    this.lingerMs = lingerMs;
  }

  /** Publishes `l` at the next tick (at most `lingerMs` from now). */
  schedule(l: Lingering): void {
    this.#pending.add(l);
    this.#timer ??= setTimeout(() => this.#tick(), this.lingerMs);
  }

  /** Publishes everything lingering now (shutdown). */
  flushAll(): void {
    clearTimeout(this.#timer);
    this.#tick();
  }

  #tick(): void {
    this.#timer = undefined;
    for (const l of this.#pending) l.flush();
    this.#pending.clear();
  }
}
