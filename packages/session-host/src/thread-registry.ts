import { threadCommandSubject } from "@threadmesh/protocol";
import { decodeCommand } from "./command-outcome.ts";
import { TracedCommand } from "./command-span.ts";
import type { HostServices } from "./host-services.ts";
import { ThreadActor } from "./thread-actor.ts";
import type { LoadedThreadState } from "./thread-loader.ts";

/**
 * The threads this host holds, by tenant and id. Adopting a thread subscribes its command subject;
 * loads of the same thread that overlap share one load, so a thread is never held twice.
 */
export class ThreadRegistry {
  readonly #services: HostServices;
  readonly #onSizeChange: () => void;
  readonly #actors = new Map<string, ThreadActor>();
  readonly #loading = new Map<string, Promise<ThreadActor | null>>();
  /** Threads this host is creating (thread/start, thread/fork): owned, stored or not yet, not adopted yet. */
  readonly #creating = new Set<string>();

  constructor(services: HostServices, onSizeChange: () => void) {
    this.#services = services;
    this.#onSizeChange = onSizeChange;
  }

  get size(): number {
    return this.#actors.size;
  }

  /** The actor of a thread, possibly still unloading (`closed`). */
  get(tenant: string, threadId: string): ThreadActor | undefined {
    return this.#actors.get(key(tenant, threadId));
  }

  /** The load in progress for this thread, if any. */
  loading(tenant: string, threadId: string): Promise<ThreadActor | null> | undefined {
    return this.#loading.get(key(tenant, threadId));
  }

  /**
   * Marks a thread this host is creating as held from before its owner entry is claimed until it is
   * adopted, so that nothing on this host (the orphan sweeper) takes the entry naming it for a thread
   * it let go of. Returns the release, to call once the thread is adopted or its creation failed.
   */
  creating(tenant: string, threadId: string): () => void {
    const k = key(tenant, threadId);
    this.#creating.add(k);
    return () => this.#creating.delete(k);
  }

  /** True while {@link creating} marks the thread. */
  isCreating(tenant: string, threadId: string): boolean {
    return this.#creating.has(key(tenant, threadId));
  }

  /** Loaded threads of a tenant (not those unloading). */
  list(tenant: string): ThreadActor[] {
    return [...this.#actors.values()].filter((a) => a.tenant === tenant && !a.closed);
  }

  all(): ThreadActor[] {
    return [...this.#actors.values()];
  }

  /** Starts an actor for a thread this host now owns and subscribes its command subject. */
  adopt(state: LoadedThreadState): ThreadActor {
    const actor = new ThreadActor({ services: this.#services, ...state });
    const sub = this.#services.bus.subscribe(threadCommandSubject(state.tenant, actor.threadId), (msg) => {
      const env = decodeCommand(msg, this.#services.logger);
      if (!env) return;
      // A host whose lease lapsed stays silent: the thread's new owner answers.
      if (!this.#services.leaseValid()) return;
      this.#services.commandReceived(env.method);
      actor.enqueue(env, new TracedCommand(msg, env, state.tenant, this.#services.telemetry.tracer));
    });
    actor.attach(sub);
    this.#actors.set(key(state.tenant, actor.threadId), actor);
    this.#onSizeChange();
    actor.touch();
    return actor;
  }

  /**
   * Loads a thread once: concurrent calls share the same promise. `onAdopt` runs once, right after the
   * actor starts and before any caller sees it. Resolves null when `read` finds nothing.
   */
  load(tenant: string, threadId: string, read: () => Promise<LoadedThreadState | null>, onAdopt: (actor: ThreadActor) => void): Promise<ThreadActor | null> {
    const k = key(tenant, threadId);
    const existing = this.#actors.get(k);
    if (existing && !existing.closed) return Promise.resolve(existing);
    let p = this.#loading.get(k);
    if (!p) {
      // A thread still unloading is stored completely before it is read back.
      p = (existing ? existing.unload() : Promise.resolve())
        .then(read)
        .then((state) => {
          if (!state) return null;
          const actor = this.adopt(state);
          onAdopt(actor);
          return actor;
        })
        .finally(() => this.#loading.delete(k));
      this.#loading.set(k, p);
    }
    return p;
  }

  remove(tenant: string, threadId: string): void {
    this.#actors.delete(key(tenant, threadId));
    this.#onSizeChange();
  }
}

function key(tenant: string, threadId: string): string {
  return `${tenant}/${threadId}`;
}
