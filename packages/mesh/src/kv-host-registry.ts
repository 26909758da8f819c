import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { HOST_HEARTBEAT_WILDCARD, hostHeartbeatSubject } from "@threadmesh/protocol";
import { DEFAULT_LEASE_TTL_MS, type HostLoad, type HostRegistry } from "./host-registry.ts";
import { HostTable } from "./host-table.ts";
import { BucketWatch, openBucket } from "./kv-bucket.ts";
import { LeaseKeeper, type KeptLoad } from "./lease-keeper.ts";
import type { KeepLeaseOptions } from "./host-registry.ts";

export const DEFAULT_HOSTS_BUCKET = "tm_hosts";
/** Entries of hosts that stopped heartbeating leave the bucket after a day (host ids are often random). */
const HOST_ENTRY_MAX_AGE_MS = 24 * 3600_000;

export interface KvHostRegistryOptions {
  /** Default {@link DEFAULT_HOSTS_BUCKET}. */
  bucket?: string;
  /** Default {@link DEFAULT_LEASE_TTL_MS}. */
  leaseTtlMs?: number;
  /** Replicas of the bucket when it is created (3 on a clustered NATS); default 1. */
  replicas?: number;
  /** Watch and store failures; default: ignored (the watch re-opens itself, the next beat writes again). */
  onError?: (err: unknown) => void;
  /** NATS servers of the connection: given, a host keeps its lease off its event loop ({@link KvHostRegistry.keepLease}). */
  servers?: string[];
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** What a host publishes on its heartbeat subject when it leaves: it is dead for everyone at once. */
interface Departure {
  hostId: string;
  gone: true;
}

/**
 * {@link HostRegistry} over NATS: every heartbeat is a core message on `tm.ctl.v1.hb.<hostId>`, confirmed
 * by a round trip to the server, and is also stored in a JetStream KV bucket (one key per host) so a
 * process that starts later knows the hosts at once. Liveness rides on the core messages: a KV write that
 * queues behind the stream's storage on a loaded machine never costs a host its lease. A host's first
 * beat waits for its KV write; after that at most one write per host is in flight, and the newest beat
 * that arrived meanwhile is written when it ends.
 */
export class KvHostRegistry implements HostRegistry {
  readonly leaseTtlMs: number;
  readonly processLocal = false;
  readonly #nc: NatsConnection;
  readonly #kv: KV;
  readonly #table: HostTable;
  readonly #onError: (err: unknown) => void;
  #watch: BucketWatch | null = null;
  #sub: Subscription | null = null;
  /** Hosts whose beats this registry has written before. */
  readonly #known = new Set<string>();
  /** Per host: the KV write in flight and the newest beat waiting for it. */
  readonly #stores = new Map<string, { inFlight: Promise<void>; next: Uint8Array | null }>();
  readonly #opts: KvHostRegistryOptions;

  private constructor(nc: NatsConnection, kv: KV, leaseTtlMs: number, onError: (err: unknown) => void, opts: KvHostRegistryOptions) {
    this.#opts = opts;
    this.#nc = nc;
    this.#kv = kv;
    this.leaseTtlMs = leaseTtlMs;
    this.#table = new HostTable(leaseTtlMs);
    this.#onError = onError;
  }

  static async open(nc: NatsConnection, opts: KvHostRegistryOptions = {}): Promise<KvHostRegistry> {
    const kv = await openBucket(nc, opts.bucket ?? DEFAULT_HOSTS_BUCKET, { ttl: HOST_ENTRY_MAX_AGE_MS, replicas: opts.replicas ?? 1 });
    return new KvHostRegistry(nc, kv, opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, opts.onError ?? (() => {}), opts);
  }

  /** Present when the registry knows its NATS servers: the worker opens a connection of its own to them. */
  get keepLease(): ((opts: KeepLeaseOptions, first: KeptLoad) => Promise<LeaseKeeper>) | undefined {
    const servers = this.#opts.servers;
    if (servers === undefined || servers.length === 0) return undefined;
    return (opts, first) => LeaseKeeper.start({ ...opts, servers, bucket: this.#opts.bucket, replicas: this.#opts.replicas, leaseTtlMs: this.leaseTtlMs }, first);
  }

  /** Listens for heartbeats first, then reads the bucket: no beat falls between the two. */
  start(): Promise<void> {
    this.#sub ??= this.#nc.subscribe(HOST_HEARTBEAT_WILDCARD, {
      callback: (err, msg) => {
        if (err !== null) return this.#onError(err);
        this.#onBeat(msg.data);
      },
    });
    this.#watch ??= new BucketWatch(this.#kv, (e) => this.#apply(e), this.#onError);
    return this.#watch.ready;
  }

  /** Resolves once the NATS server has the beat (the lease then runs from `load.at`); the KV write follows. */
  async heartbeat(load: HostLoad): Promise<void> {
    const data = ENCODER.encode(JSON.stringify(load));
    this.#nc.publish(hostHeartbeatSubject(load.hostId), data);
    if (this.#known.has(load.hostId)) {
      this.#store(load.hostId, data);
      await this.#nc.flush();
    } else {
      // The first beat is stored before it counts (and fails loudly), so a process that starts next sees it.
      await Promise.all([this.#nc.flush(), this.#kv.put(load.hostId, data)]);
      this.#known.add(load.hostId);
    }
    this.#table.put({ ...load });
  }

  async remove(hostId: string): Promise<void> {
    this.#table.delete(hostId);
    const departure: Departure = { hostId, gone: true };
    this.#nc.publish(hostHeartbeatSubject(hostId), ENCODER.encode(JSON.stringify(departure)));
    await this.#settled(hostId);
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
    if (!this.#nc.isClosed()) this.#sub?.unsubscribe();
    await Promise.all([...this.#stores.keys()].map((id) => this.#settled(id)));
  }

  /** Writes the beat to the bucket in the background, or leaves it for the write in flight to pick up. */
  #store(hostId: string, data: Uint8Array): void {
    const pending = this.#stores.get(hostId);
    if (pending !== undefined) {
      pending.next = data;
      return;
    }
    const entry = { inFlight: Promise.resolve(), next: null as Uint8Array | null };
    const run = async (bytes: Uint8Array): Promise<void> => {
      try {
        await this.#kv.put(hostId, bytes);
      } catch (err) {
        this.#onError(err);
      }
      const next = entry.next;
      entry.next = null;
      if (next !== null) return run(next);
      this.#stores.delete(hostId);
    };
    this.#stores.set(hostId, entry);
    entry.inFlight = run(data);
  }

  /** Resolves once no KV write of the host is in flight. */
  async #settled(hostId: string): Promise<void> {
    for (let e = this.#stores.get(hostId); e !== undefined; e = this.#stores.get(hostId)) await e.inFlight;
  }

  #onBeat(data: Uint8Array): void {
    let beat: Partial<HostLoad & Departure>;
    try {
      beat = JSON.parse(DECODER.decode(data)) as Partial<HostLoad & Departure>;
    } catch (err) {
      this.#onError(err);
      return;
    }
    if (typeof beat?.hostId !== "string") return;
    if (beat.gone === true) this.#table.delete(beat.hostId);
    else if (typeof beat.at === "number") this.#table.put(beat as HostLoad);
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
