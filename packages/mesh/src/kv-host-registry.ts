import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_LEASE_TTL_MS, type HostLoad, type HostRegistry } from "./host-registry.ts";
import { HostTable } from "./host-table.ts";
import { BucketWatch, openBucket } from "./kv-bucket.ts";

export const DEFAULT_HOSTS_BUCKET = "tm_hosts";
/** Entries of hosts that stopped heartbeating leave the bucket after a day (host ids are often random). */
const HOST_ENTRY_MAX_AGE_MS = 24 * 3600_000;

export interface KvHostRegistryOptions {
  /** Default {@link DEFAULT_HOSTS_BUCKET}. */
  bucket?: string;
  /** Default {@link DEFAULT_LEASE_TTL_MS}. */
  leaseTtlMs?: number;
  /** Watch failures; default: ignored (the watch re-opens itself). */
  onError?: (err: unknown) => void;
}

const ENCODER = new TextEncoder();

/** {@link HostRegistry} in a JetStream KV bucket: one key per host, value = its last {@link HostLoad}. */
export class KvHostRegistry implements HostRegistry {
  readonly leaseTtlMs: number;
  readonly processLocal = false;
  readonly #kv: KV;
  readonly #table: HostTable;
  readonly #onError: (err: unknown) => void;
  #watch: BucketWatch | null = null;

  private constructor(kv: KV, leaseTtlMs: number, onError: (err: unknown) => void) {
    this.#kv = kv;
    this.leaseTtlMs = leaseTtlMs;
    this.#table = new HostTable(leaseTtlMs);
    this.#onError = onError;
  }

  static async open(nc: NatsConnection, opts: KvHostRegistryOptions = {}): Promise<KvHostRegistry> {
    const kv = await openBucket(nc, opts.bucket ?? DEFAULT_HOSTS_BUCKET, { ttl: HOST_ENTRY_MAX_AGE_MS });
    return new KvHostRegistry(kv, opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, opts.onError ?? (() => {}));
  }

  start(): Promise<void> {
    this.#watch ??= new BucketWatch(this.#kv, (e) => this.#apply(e), this.#onError);
    return this.#watch.ready;
  }

  async heartbeat(load: HostLoad): Promise<void> {
    await this.#kv.put(load.hostId, ENCODER.encode(JSON.stringify(load)));
    this.#table.put({ ...load });
  }

  async remove(hostId: string): Promise<void> {
    this.#table.delete(hostId);
    await this.#kv.delete(hostId);
  }

  get(hostId: string): HostLoad | undefined {
    return this.#table.get(hostId);
  }

  isAlive(hostId: string, now?: number): boolean {
    return this.#table.isAlive(hostId, now);
  }

  expiresAt(hostId: string): number {
    return this.#table.expiresAt(hostId);
  }

  live(now?: number): HostLoad[] {
    return this.#table.live(now);
  }

  async close(): Promise<void> {
    this.#watch?.close();
  }

  #apply(e: KvWatchEntry): void {
    if (e.operation !== "PUT") {
      this.#table.delete(e.key);
      return;
    }
    const load = e.json<HostLoad>();
    if (typeof load?.hostId === "string" && typeof load.at === "number") this.#table.put(load);
  }
}
