/** Who owns a loaded thread: its host and the epoch that fences the host's writes. */
export interface OwnerRecord {
  hostId: string;
  epoch: number;
  /** The host gave the thread up (shutdown) without unloading it: any live host may adopt it at once. */
  released: boolean;
}

/** An owner record with the revision it was stored at (the compare-and-swap token). */
export interface OwnerEntry extends OwnerRecord {
  readonly revision: number;
}

/** A change seen by the watch: the new entry, or null when the key was deleted (at `revision`). */
export type OwnerChange = (tenant: string, threadId: string, entry: OwnerEntry | null, revision: number) => void;

/**
 * One entry per loaded thread, keyed by tenant and thread. Entries are created only when absent and
 * changed only by compare-and-swap on their revision, so two hosts never both win the same thread.
 * Every process keeps a watched copy (`cached`); decisions that move an entry read it fresh.
 */
export interface OwnerLeases {
  /** Starts watching; resolves once the entries stored so far are in the cache. */
  start(): Promise<void>;
  /** The watched copy of an entry; may lag the store by the watch's delay. */
  cached(tenant: string, threadId: string): OwnerEntry | undefined;
  /** Every watched entry. */
  cachedEntries(): Iterable<{ tenant: string; threadId: string; entry: OwnerEntry }>;
  /** The stored entry. */
  read(tenant: string, threadId: string): Promise<OwnerEntry | undefined>;
  /** Stores `record` if the thread has no entry; null when it has one. */
  create(tenant: string, threadId: string, record: OwnerRecord): Promise<OwnerEntry | null>;
  /** Replaces the entry if it is still at `revision`; null when it moved. */
  swap(tenant: string, threadId: string, record: OwnerRecord, revision: number): Promise<OwnerEntry | null>;
  /** Deletes the entry if it is still at `revision`; false when it moved. */
  remove(tenant: string, threadId: string, revision: number): Promise<boolean>;
  /** Calls `listener` for every change the watch sees; returns the unsubscribe function. */
  onChange(listener: OwnerChange): () => void;
  close(): Promise<void>;
}

/** The key of a thread's entry. Tenant and thread ids are subject tokens, so neither contains a dot. */
export function ownerKey(tenant: string, threadId: string): string {
  return `${tenant}.${threadId}`;
}

/** Tenant and thread of an entry key; null for a key that is not one. */
export function parseOwnerKey(key: string): { tenant: string; threadId: string } | null {
  const dot = key.indexOf(".");
  if (dot <= 0 || dot === key.length - 1) return null;
  return { tenant: key.slice(0, dot), threadId: key.slice(dot + 1) };
}

/** Entry data as stored. */
export function isOwnerRecord(v: unknown): v is OwnerRecord {
  const r = v as OwnerRecord | null;
  return typeof r === "object" && r !== null && typeof r.hostId === "string" && typeof r.epoch === "number";
}
