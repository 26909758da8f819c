import type { Thread } from "@threadmesh/protocol";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff.ts";
import { AbortError, ClientClosedError, ConnectError, ConnectionLostError, ProtocolError, RetryableError } from "./errors.ts";
import type { MethodName, OptionalParamsMethod, RequestParams, ResultOf } from "./methods.ts";
import { NOTIFICATION_METHODS, type ApprovalDecision, type ApprovalMethod, type ServerEvent, type ServerRequestMethod, type UnknownEvent } from "./notifications.ts";
import { RpcConnection, type InboundFrame } from "./rpc-connection.ts";
import { ServerRequest, serverRequestKey } from "./server-requests.ts";
import { defaultSocketFactory, type SocketFactory } from "./socket.ts";
import { ThreadHandle } from "./thread.ts";

/** One URL, several (tried in turn), or a function giving the URL to try next. */
export type UrlSource = string | readonly string[] | (() => string | Promise<string>);

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Longest wait honoured between attempts, ms (default 30,000); a longer `retryAfterMs` is not retried. */
  maxDelayMs?: number;
}

/** Decides an approval, or returns undefined to leave it for `onServerRequest` listeners. */
export type ApprovalHandler = (request: ServerRequest<ApprovalMethod>) => ApprovalDecision | undefined | Promise<ApprovalDecision | undefined>;

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "closed";

export interface ConnectOptions {
  url: UrlSource;
  /** API key, JWT or capability token, sent as `Authorization: Bearer` (Node). */
  token?: string;
  clientInfo?: { name: string; version: string; title?: string };
  /** Asks for the experimental API (`thread/search`, experimental fields). */
  experimentalApi?: boolean;
  optOutNotificationMethods?: string[];
  /** Reconnection after a lost connection (capped, jittered backoff); `false` to end the client instead. */
  reconnect?: BackoffOptions | false;
  /** Retries a -32001 answer after its `retryAfterMs` (default: off; per request with `{retry}`). */
  retry?: RetryOptions | false;
  onApproval?: ApprovalHandler;
  /** Opens the WebSocket (default: `ws` in Node, the platform WebSocket elsewhere). */
  createWebSocket?: SocketFactory;
  /** Cancels the initial connection. */
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
  retry?: RetryOptions | false;
}

/** Reads that are safe to send again when the connection dropped before their answer. */
const IDEMPOTENT = new Set<string>([
  "thread/read",
  "thread/list",
  "thread/loaded/list",
  "thread/turns/list",
  "thread/items/list",
  "thread/goal/get",
  "model/list",
  "account/read",
  "account/rateLimits/read",
  "config/read",
  "configRequirements/read",
]);

const RESOLVED = "serverRequest/resolved";
const KNOWN = new Set<string>(NOTIFICATION_METHODS);

type ParamsArg<M extends MethodName> = M extends OptionalParamsMethod ? [params?: RequestParams<M>, opts?: RequestOptions] : [params: RequestParams<M>, opts?: RequestOptions];

/** Connects, performs the `initialize` handshake and returns the client. */
export async function connect(opts: ConnectOptions): Promise<ThreadmeshClient> {
  const client = new ThreadmeshClient(opts);
  await client.opened;
  return client;
}

/** A Threadmesh client: typed requests, followed threads, approvals, reconnection with replay. */
export class ThreadmeshClient {
  readonly thread: {
    start: (params?: RequestParams<"thread/start">, opts?: RequestOptions) => Promise<ThreadHandle>;
    resume: (threadId: string, params?: Omit<RequestParams<"thread/resume">, "threadId">, opts?: RequestOptions) => Promise<ThreadHandle>;
    fork: (threadId: string, params?: Omit<RequestParams<"thread/fork">, "threadId">, opts?: RequestOptions) => Promise<ThreadHandle>;
    list: (params?: RequestParams<"thread/list">, opts?: RequestOptions) => Promise<ResultOf<"thread/list">>;
  };
  /** Resolves once the first connection is initialized. */
  readonly opened: Promise<void>;
  readonly #opts: ConnectOptions;
  #state: ConnectionState = "connecting";
  #conn: RpcConnection | null = null;
  #urlIndex = 0;
  #ready: Promise<void>;
  #readyResolve!: () => void;
  #readyReject!: (e: unknown) => void;
  readonly #threads = new Map<string, ThreadHandle>();
  readonly #requests = new Map<string, ServerRequest>();
  readonly #eventListeners = new Set<(ev: ServerEvent) => void>();
  readonly #unknownListeners = new Set<(ev: UnknownEvent) => void>();
  readonly #stateListeners = new Set<(s: ConnectionState, detail?: unknown) => void>();
  readonly #requestListeners = new Set<(r: ServerRequest) => void>();
  #approvalHandler: ApprovalHandler | undefined;
  #closeError: Error | null = null;
  /** Aborts a backoff wait when the client closes. */
  readonly #closing = new AbortController();

  constructor(opts: ConnectOptions) {
    this.#opts = opts;
    this.#approvalHandler = opts.onApproval;
    this.#ready = this.#newReady();
    this.thread = {
      start: async (params = {}, o) => this.#follow((await this.request("thread/start", params, o)).thread),
      resume: async (threadId, params = {}, o) => this.#follow((await this.request("thread/resume", { ...params, threadId }, o)).thread),
      fork: async (threadId, params = {}, o) => this.#follow((await this.request("thread/fork", { ...params, threadId }, o)).thread),
      list: (params = {}, o) => this.request("thread/list", params, o),
    };
    this.opened = this.#connectLoop(true, opts.signal ? AbortSignal.any([opts.signal, this.#closing.signal]) : this.#closing.signal);
    this.opened.catch(() => undefined);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Threads this client follows. */
  get threads(): ThreadHandle[] {
    return [...this.#threads.values()];
  }

  /** Sends a request and resolves with its typed result; rejects with a typed error. */
  async request<M extends MethodName>(method: M, ...[params, opts = {}]: ParamsArg<M>): Promise<ResultOf<M>> {
    const retry = opts.retry ?? this.#opts.retry ?? false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#whenReady(opts.signal);
        return (await this.#conn!.request(method, params, opts.signal)) as ResultOf<M>;
      } catch (err) {
        if (err instanceof ConnectionLostError && IDEMPOTENT.has(method) && this.#state !== "closed") continue;
        if (!(err instanceof RetryableError) || retry === false || err.retryAfterMs === null) throw err;
        if (attempt >= (retry.maxAttempts ?? 5) || err.retryAfterMs > (retry.maxDelayMs ?? 30_000)) throw err;
        await sleep(err.retryAfterMs, opts.signal);
      }
    }
  }

  /** Every notification this client receives (each once), thread events and tenant broadcasts alike. */
  onEvent(listener: (ev: ServerEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Notifications whose method this SDK does not know (a newer server), as they came. */
  onUnknownEvent(listener: (ev: UnknownEvent) => void): () => void {
    this.#unknownListeners.add(listener);
    return () => this.#unknownListeners.delete(listener);
  }

  /** Connection state changes: `reconnecting` (with the close or error), `connected`, `closed`. */
  onStateChange(listener: (state: ConnectionState, detail?: unknown) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Decides every approval request (a handler returning undefined leaves it to `onServerRequest`). */
  onApproval(handler: ApprovalHandler | undefined): void {
    this.#approvalHandler = handler;
  }

  /** Every server request this client holds, to answer one by one (`request.respond`, `request.decide`). */
  onServerRequest(listener: (request: ServerRequest) => void): () => void {
    this.#requestListeners.add(listener);
    return () => this.#requestListeners.delete(listener);
  }

  /** Server requests not answered yet. */
  get pendingServerRequests(): ServerRequest[] {
    return [...this.#requests.values()].filter((r) => !r.done);
  }

  /** Closes the connection for good: requests, turns and iterators end with {@link ClientClosedError}. */
  close(): void {
    this.#shutdown(new ClientClosedError());
  }

  #newReady(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    p.catch(() => undefined);
    return p;
  }

  async #whenReady(signal?: AbortSignal): Promise<void> {
    if (this.#closeError) throw this.#closeError;
    if (this.#state === "connected" && this.#conn?.isOpen) return;
    if (!signal) return this.#ready;
    if (signal.aborted) throw new AbortError(signal.reason);
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortError(signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([this.#ready, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  #setState(s: ConnectionState, detail?: unknown): void {
    if (this.#state === s) return;
    this.#state = s;
    for (const l of this.#stateListeners) l(s, detail);
  }

  async #nextUrl(): Promise<string> {
    const src = this.#opts.url;
    if (typeof src === "string") return src;
    if (typeof src === "function") return src();
    if (src.length === 0) throw new ConnectError("", "no URL to connect to");
    return src[this.#urlIndex++ % src.length]!;
  }

  /** Opens a connection (first or again) with backoff; after a reconnect resumes every followed thread. */
  async #connectLoop(initial: boolean, signal?: AbortSignal): Promise<void> {
    const backoff = this.#opts.reconnect === false ? { maxAttempts: 1 } : (this.#opts.reconnect ?? {});
    const urls = typeof this.#opts.url === "string" ? 1 : Array.isArray(this.#opts.url) ? this.#opts.url.length : 1;
    const maxAttempts = initial ? Math.min(backoff.maxAttempts ?? Infinity, Math.max(3, urls)) : (backoff.maxAttempts ?? Infinity);
    for (let attempt = 0; ; attempt++) {
      if (this.#closeError) throw this.#closeError;
      try {
        // A list of URLs: the next one right away, backing off once every one was tried.
        if (attempt > 0 && attempt % urls === 0) await sleep(backoffDelay(attempt / urls - 1, backoff), signal);
        const conn = await this.#open(await this.#nextUrl(), signal);
        if (!initial) await this.#resumeAll(conn);
        this.#setState("connected");
        this.#readyResolve();
        return;
      } catch (err) {
        if (err instanceof AbortError || this.#closeError) {
          this.#shutdown(err as Error);
          throw err;
        }
        if ((err instanceof ConnectError && err.fatal) || attempt + 1 >= maxAttempts) {
          const e = err instanceof Error ? err : new ConnectError("", String(err));
          this.#shutdown(e);
          throw e;
        }
      }
    }
  }

  async #open(url: string, signal?: AbortSignal): Promise<RpcConnection> {
    if (signal?.aborted) throw new AbortError(signal.reason);
    const socket = await (this.#opts.createWebSocket ?? defaultSocketFactory)(url, this.#opts.token);
    const conn = new RpcConnection(socket, (f) => this.#onFrame(conn, f));
    if (this.#closeError) {
      conn.close();
      throw this.#closeError;
    }
    this.#conn = conn;
    void conn.closed.then((c) => this.#onClose(conn, c));
    const o = this.#opts;
    await conn.request(
      "initialize",
      {
        clientInfo: o.clientInfo ?? { name: "threadmesh-client", version: "0.1.0" },
        capabilities: { experimentalApi: o.experimentalApi ?? false, optOutNotificationMethods: o.optOutNotificationMethods ?? [] },
      },
      signal,
    );
    conn.notify("initialized");
    return conn;
  }

  #onClose(conn: RpcConnection, c: { code: number; reason: string }): void {
    if (conn !== this.#conn || this.#closeError) return;
    if (this.#state !== "connected") return; // the connect loop handles failures of its own attempts
    if (this.#opts.reconnect === false || c.code === 1008) {
      this.#shutdown(new ClientClosedError(`connection closed (${c.code}${c.reason ? ` ${c.reason}` : ""})`));
      return;
    }
    this.#ready = this.#newReady();
    this.#setState("reconnecting", c);
    this.#connectLoop(false, this.#closing.signal).catch(() => undefined);
  }

  /** Resumes each followed thread after its last seen seq; reloads those whose gap the window no longer holds. */
  async #resumeAll(conn: RpcConnection): Promise<void> {
    for (const handle of [...this.#threads.values()]) {
      let r: ResultOf<"thread/resume">;
      try {
        r = (await conn.request("thread/resume", { threadId: handle.id, afterSeq: handle.lastSeq, excludeTurns: true })) as ResultOf<"thread/resume">;
      } catch (err) {
        // The thread is gone for this client (deleted, unshared): its handle ends; the others resume.
        if (!(err instanceof ProtocolError)) throw err;
        this.#threads.delete(handle.id);
        handle.close(err);
        continue;
      }
      if (r.replay?.recovered === false) {
        const read = (await conn.request("thread/read", { threadId: handle.id, includeTurns: true })) as ResultOf<"thread/read">;
        handle.resynced(read.thread);
      }
    }
  }

  #follow(thread: Thread): ThreadHandle {
    let h = this.#threads.get(thread.id);
    if (h === undefined) {
      const untyped = this.request.bind(this) as (m: MethodName, p: unknown, o?: RequestOptions) => Promise<never>;
      h = new ThreadHandle({ request: (m, p, o) => untyped(m, p, o), forget: (id) => this.#threads.delete(id) }, thread);
      this.#threads.set(thread.id, h);
    } else h.thread = thread;
    return h;
  }

  #onFrame(conn: RpcConnection, f: InboundFrame): void {
    if (f.id !== undefined) {
      this.#onServerRequest(conn, f);
      return;
    }
    const seq = typeof f.seq === "number" ? f.seq : null;
    const ev = { method: f.method, params: f.params, seq, ...(typeof f.firstSeq === "number" ? { firstSeq: f.firstSeq } : {}) };
    const handle = this.#threadOf(f.params, seq);
    if (handle !== undefined && !handle.accept(seq)) return;
    if (!KNOWN.has(f.method)) {
      for (const l of this.#unknownListeners) l(ev);
      return;
    }
    const known = ev as ServerEvent;
    if (f.method === RESOLVED) this.#onResolved(conn, f.params as { threadId: string; requestId: string | number });
    for (const l of this.#eventListeners) l(known);
    handle?.deliver(known);
  }

  /** The followed thread an event belongs to; an event naming no thread is the only followed thread's. */
  #threadOf(params: unknown, seq: number | null): ThreadHandle | undefined {
    const p = (params ?? {}) as { threadId?: unknown; thread?: { id?: unknown } };
    const id = typeof p.threadId === "string" ? p.threadId : typeof p.thread?.id === "string" ? p.thread.id : undefined;
    if (id !== undefined) return this.#threads.get(id);
    if (seq !== null && this.#threads.size === 1) return this.#threads.values().next().value;
    return undefined;
  }

  #onServerRequest(conn: RpcConnection, f: InboundFrame): void {
    const key = serverRequestKey(f.method, f.params);
    const known = this.#requests.get(key);
    if (known !== undefined && !known.done) {
      // Re-issued after a reconnect: same request, new id. An answer given before is sent again.
      known.id = f.id!;
      known.conn = conn;
      if (known.answer !== undefined) conn.respond(known.id, known.answer);
      return;
    }
    const req = new ServerRequest(f.method as ServerRequestMethod, f.params as never, f.id!, conn);
    this.#requests.set(key, req);
    void req.settled.then(() => this.#requests.delete(key));
    for (const l of this.#requestListeners) l(req);
    const handler = this.#approvalHandler;
    if (handler !== undefined && req.isApproval && req.answer === undefined) {
      void Promise.resolve()
        .then(() => handler(req as ServerRequest<ApprovalMethod>))
        .then((decision) => {
          if (decision !== undefined && !req.done) (req as ServerRequest<ApprovalMethod>).decide(decision);
        })
        .catch(() => undefined);
    }
  }

  #onResolved(conn: RpcConnection, p: { threadId: string; requestId: string | number }): void {
    for (const req of this.#requests.values()) {
      if (req.conn === conn && req.id === p.requestId && req.threadId === p.threadId) {
        req.finish(req.answer !== undefined ? "answered" : "resolvedElsewhere");
        return;
      }
    }
  }

  #shutdown(err: Error): void {
    if (this.#closeError) return;
    this.#closeError = err;
    this.#closing.abort();
    this.#readyReject(err);
    for (const t of this.#threads.values()) t.close(err);
    for (const r of this.#requests.values()) r.finish("abandoned");
    this.#conn?.close();
    this.#setState("closed", err);
  }
}
