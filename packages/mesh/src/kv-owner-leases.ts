import type { KV, KvEntry, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { BucketWatch, isRevisionConflict, openBucket } from "./kv-bucket.ts";
import { isOwnerRecord, ownerKey, type OwnerChange, type OwnerEntry, type OwnerLeases, type OwnerRecord } from "./owner-leases.ts";
import { OwnerTable } from "./owner-table.ts";

export const DEFAULT_OWNERS_BUCKET = "tm_owners";

export interface KvOwnerLeasesOptions {
  /** Default {@link DEFAULT_OWNERS_BUCKET}. */
  bucket?: string;
  /** Replicas of the bucket when it is created (3 on a clustered NATS); default 1. */
  replicas?: number;
  /** Watch and listener failures; default: ignored. */
  onError?: (err: unknown) => void;
}

const ENCODER = new TextEncoder();

/** {@link OwnerLeases} in a JetStream KV bucket: key `<tenant>.<threadId>`, value `{hostId, epoch, released}`. */
export class KvOwnerLeases implements OwnerLeases {
  readonly #kv: KV;
  readonly #table: OwnerTable;
  readonly #onError: (err: unknown) => void;
  #watch: BucketWatch | null = null;

  private constructor(kv: KV, onError: (err: unknown) => void) {
    this.#kv = kv;
    this.#onError = onError;
    this.#table = new OwnerTable(onError);
  }

  static async open(nc: NatsConnection, opts: KvOwnerLeasesOptions = {}): Promise<KvOwnerLeases> {
    const kv = await openBucket(nc, opts.bucket ?? DEFAULT_OWNERS_BUCKET, { replicas: opts.replicas ?? 1 });
    return new KvOwnerLeases(kv, opts.onError ?? (() => {}));
  }

  start(): Promise<void> {
    this.#watch ??= new BucketWatch(this.#kv, (e) => this.#apply(e), this.#onError);
    return this.#watch.ready;
  }

  cached(tenant: string, threadId: string): OwnerEntry | undefined {
    return this.#table.get(tenant, threadId);
  }

  async read(tenant: string, threadId: string): Promise<OwnerEntry | undefined> {
    return toEntry(await this.#kv.get(ownerKey(tenant, threadId)));
  }

  async create(tenant: string, threadId: string, record: OwnerRecord): Promise<OwnerEntry | null> {
    try {
      const revision = await this.#kv.create(ownerKey(tenant, threadId), encode(record));
      return { ...record, revision };
    } catch (err) {
      if (isRevisionConflict(err)) return null;
      throw err;
    }
  }

  async swap(tenant: string, threadId: string, record: OwnerRecord, revision: number): Promise<OwnerEntry | null> {
    try {
      const next = await this.#kv.update(ownerKey(tenant, threadId), encode(record), revision);
      return { ...record, revision: next };
    } catch (err) {
      if (isRevisionConflict(err)) return null;
      throw err;
    }
  }

  async remove(tenant: string, threadId: string, revision: number): Promise<boolean> {
    try {
      await this.#kv.delete(ownerKey(tenant, threadId), { previousSeq: revision });
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  cachedEntries(): Iterable<{ tenant: string; threadId: string; entry: OwnerEntry }> {
    return this.#table.entries();
  }

  onChange(listener: OwnerChange): () => void {
    return this.#table.listen(listener);
  }

  async close(): Promise<void> {
    this.#watch?.close();
  }

  #apply(e: KvWatchEntry): void {
    this.#table.apply(e.key, toEntry(e) ?? null, e.revision);
  }
}

function encode(record: OwnerRecord): Uint8Array {
  return ENCODER.encode(JSON.stringify({ hostId: record.hostId, epoch: record.epoch, released: record.released }));
}

/** The live entry of a stored value; undefined for none, a delete marker or foreign data. */
function toEntry(e: KvEntry | null): OwnerEntry | undefined {
  if (e === null || e.operation !== "PUT") return undefined;
  let v: unknown;
  try {
    v = e.json<unknown>();
  } catch {
    return undefined;
  }
  if (!isOwnerRecord(v)) return undefined;
  return { hostId: v.hostId, epoch: v.epoch, released: v.released === true, revision: e.revision };
}
