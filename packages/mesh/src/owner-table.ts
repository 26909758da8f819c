import { ownerKey, parseOwnerKey, type OwnerChange, type OwnerEntry } from "./owner-leases.ts";

/** The watched copy of the owner entries and the listeners of their changes. */
export class OwnerTable {
  readonly #entries = new Map<string, OwnerEntry>();
  readonly #listeners = new Set<OwnerChange>();
  readonly #onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  get(tenant: string, threadId: string): OwnerEntry | undefined {
    return this.#entries.get(ownerKey(tenant, threadId));
  }

  *entries(): Iterable<{ tenant: string; threadId: string; entry: OwnerEntry }> {
    for (const [key, entry] of this.#entries) {
      const ids = parseOwnerKey(key);
      if (ids) yield { ...ids, entry };
    }
  }

  /** Applies a change seen at `revision`; `entry` null for a delete. Older revisions than the cached one are ignored. */
  apply(key: string, entry: OwnerEntry | null, revision: number): void {
    const prev = this.#entries.get(key);
    if (prev && prev.revision >= revision) return;
    if (entry) this.#entries.set(key, entry);
    else this.#entries.delete(key);
    const ids = parseOwnerKey(key);
    if (!ids) return;
    for (const l of this.#listeners) {
      try {
        l(ids.tenant, ids.threadId, entry, revision);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  listen(listener: OwnerChange): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
