import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV, type KvOptions, type KvWatchEntry } from "@nats-io/kv";
import { TimeoutError, type NatsConnection } from "@nats-io/transport-node";
import pRetry from "p-retry";

/** How long creating a stream or bucket may take in all, in ms. */
export const JETSTREAM_SETUP_DEADLINE_MS = 60_000;

/**
 * Runs an idempotent stream or bucket setup until it answers. On a JetStream cluster a create that
 * races another process's create of the same stream may never be answered, and a replicated one waits
 * for its raft group; an attempt that timed out is made again (it then finds the stream). Other errors
 * are final.
 */
export function setUpJetStream<T>(attempt: () => Promise<T>): Promise<T> {
  return pRetry(attempt, {
    retries: 20,
    minTimeout: 100,
    maxTimeout: 2_000,
    maxRetryTime: JETSTREAM_SETUP_DEADLINE_MS,
    shouldRetry: (err) => err instanceof TimeoutError,
  });
}

/** Opens a JetStream KV bucket, creating it with `opts` when it does not exist yet. */
export function openBucket(nc: NatsConnection, name: string, opts: Partial<KvOptions>): Promise<KV> {
  return setUpJetStream(() => new Kvm(nc).create(name, { history: 1, ...opts }));
}

/** True for a compare-and-swap that lost: the key moved (or exists, for create) since the caller read it. */
export function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Longest wait for a watch's initial values before `ready` resolves anyway, in ms. */
const READY_TIMEOUT_MS = 5_000;
/** Pause before a watch that ended on its own is opened again, in ms. */
const REWATCH_DELAY_MS = 500;

/**
 * Keeps a bucket's latest values flowing into `onEntry` (puts, deletes, purges), re-opening the watch
 * from the last revision seen if it ends. `ready` resolves once the values stored at start were delivered.
 */
export class BucketWatch {
  readonly ready: Promise<void>;
  readonly #kv: KV;
  readonly #onEntry: (e: KvWatchEntry) => void;
  readonly #onError: (err: unknown) => void;
  #markReady!: () => void;
  #lastRevision = 0;
  #stop: (() => void) | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(kv: KV, onEntry: (e: KvWatchEntry) => void, onError: (err: unknown) => void) {
    this.#kv = kv;
    this.#onEntry = onEntry;
    this.#onError = onError;
    this.ready = new Promise<void>((resolve) => (this.#markReady = resolve));
    const timer = setTimeout(() => this.#markReady(), READY_TIMEOUT_MS);
    timer.unref();
    void this.ready.then(() => clearTimeout(timer));
    void this.#open();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#stop?.();
    this.#stop = null;
    this.#markReady();
  }

  async #open(): Promise<void> {
    try {
      const iter = await this.#kv.watch(this.#lastRevision > 0 ? { resumeFromRevision: this.#lastRevision + 1 } : {});
      if (this.#closed) {
        iter.stop();
        return;
      }
      this.#stop = () => iter.stop();
      if ((await this.#kv.status()).values === 0) this.#markReady();
      for await (const e of iter) {
        if (e.revision <= this.#lastRevision) continue;
        this.#lastRevision = e.revision;
        try {
          this.#onEntry(e);
        } catch (err) {
          this.#onError(err);
        }
        if (e.isUpdate) this.#markReady();
      }
    } catch (err) {
      if (!this.#closed) this.#onError(err);
    }
    if (this.#closed) return;
    this.#retry = setTimeout(() => void this.#open(), REWATCH_DELAY_MS);
    this.#retry.unref();
  }
}
