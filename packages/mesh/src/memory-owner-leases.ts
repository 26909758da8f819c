import { ownerKey, type OwnerChange, type OwnerEntry, type OwnerLeases, type OwnerRecord } from "./owner-leases.ts";
import { OwnerTable } from "./owner-table.ts";

/**
 * {@link OwnerLeases} of one process (embedded mode, tests): share one instance between its users.
 * Changes reach listeners asynchronously, as a watch would deliver them.
 */
export class MemoryOwnerLeases implements OwnerLeases {
  readonly #stored = new Map<string, OwnerEntry>();
  readonly #table = new OwnerTable(() => {});
  #revision = 0;

  async start(): Promise<void> {}

  cached(tenant: string, threadId: string): OwnerEntry | undefined {
    return this.#table.get(tenant, threadId);
  }

  async read(tenant: string, threadId: string): Promise<OwnerEntry | undefined> {
    return this.#stored.get(ownerKey(tenant, threadId));
  }

  async create(tenant: string, threadId: string, record: OwnerRecord): Promise<OwnerEntry | null> {
    const key = ownerKey(tenant, threadId);
    if (this.#stored.has(key)) return null;
    return this.#store(key, record);
  }

  async swap(tenant: string, threadId: string, record: OwnerRecord, revision: number): Promise<OwnerEntry | null> {
    const key = ownerKey(tenant, threadId);
    if (this.#stored.get(key)?.revision !== revision) return null;
    return this.#store(key, record);
  }

  async remove(tenant: string, threadId: string, revision: number): Promise<boolean> {
    const key = ownerKey(tenant, threadId);
    if (this.#stored.get(key)?.revision !== revision) return false;
    this.#stored.delete(key);
    const at = ++this.#revision;
    queueMicrotask(() => this.#table.apply(key, null, at));
    return true;
  }

  cachedEntries(): Iterable<{ tenant: string; threadId: string; entry: OwnerEntry }> {
    return this.#table.entries();
  }

  onChange(listener: OwnerChange): () => void {
    return this.#table.listen(listener);
  }

  async close(): Promise<void> {}

  #store(key: string, record: OwnerRecord): OwnerEntry {
    const entry: OwnerEntry = { hostId: record.hostId, epoch: record.epoch, released: record.released, revision: ++this.#revision };
    this.#stored.set(key, entry);
    queueMicrotask(() => this.#table.apply(key, entry, entry.revision));
    return entry;
  }
}
