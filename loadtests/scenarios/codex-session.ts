/**
 * A Codex app-server v2 client on one {@link LoadSocket}: initialize, requests with JSON-RPC ids,
 * per-turn watches (first delta, deltas, final status), per-thread seq checking and an auto-responder
 * for server requests. Watches and trackers can move to a new session, which is how a forced reconnect
 * checks that `thread/resume {afterSeq}` continues the stream with no gap and no repeat.
 */
import type { LoadSocket, Platform, Target } from "./platform.ts";
import { SeqTracker } from "./seq-tracker.ts";

/** A request whose connection closed before its answer came: whether it took effect is unknown. */
export class ConnectionLostError extends Error {
  readonly method: string;
  constructor(method: string, code: number) {
    super(`${method}: connection closed (${code}) before the answer`);
    this.name = "ConnectionLostError";
    this.method = method;
  }
}

/**
 * A thread a reopened connection cannot follow: its first turn had not started when the server closed
 * the connection, and until then a thread cannot be resumed (Codex: `no rollout found`). Nothing of it
 * is lost; the client starts another thread.
 */
export class ThreadNotResumableError extends Error {
  readonly threadId: string;
  constructor(threadId: string) {
    super(`thread ${threadId} cannot be followed from a new connection before its first turn`);
    this.name = "ThreadNotResumableError";
    this.threadId = threadId;
  }
}

/** A JSON-RPC error answer. */
export class RpcError extends Error {
  readonly method: string;
  readonly code: number;
  /** `data` of the error (`retryAfterMs`, `reason` on -32001). */
  readonly data: { retryAfterMs?: number; reason?: string } | undefined;

  constructor(method: string, code: number, message: string, data: { retryAfterMs?: number; reason?: string } | undefined) {
    super(`${method}: ${code} ${message}`);
    this.method = method;
    this.code = code;
    this.data = data;
  }
}

/** One turn as this client saw it. */
export class TurnWatch {
  /** When turn/start was sent (platform clock, ms). */
  sentAt = 0;
  /** When its first agent delta arrived; -1 until then. */
  firstDeltaAt = -1;
  /** Agent message deltas received (seqs of coalesced frames included). */
  deltas = 0;
  /**
   * Agent message items as delivered, in order: text and deltas of each (frames delivered in part again
   * are left out of the text). A turn a draining host handed over mid-answer shows the cut-off item,
   * then the one the adopting host's new model request streamed.
   */
  readonly items = new Map<string, { text: string; deltas: number }>();

  /** The last agent message item: the turn's answer. */
  get answer(): { text: string; deltas: number } {
    return [...this.items.values()].at(-1) ?? { text: "", deltas: 0 };
  }
  /** Final status from turn/completed (`completed`, `interrupted`, `failed`), null while running. */
  status: string | null = null;
  readonly done: Promise<string>;
  #resolve!: (status: string) => void;
  readonly #deltaWaiters: Array<{ n: number; resolve: () => void }> = [];

  readonly turnId: string;

  constructor(turnId: string) {
    this.turnId = turnId;
    this.done = new Promise((r) => (this.#resolve = r));
  }

  /** Resolves once `n` deltas arrived (or the turn ended). */
  deltasReached(n: number): Promise<void> {
    if (this.deltas >= n || this.status !== null) return Promise.resolve();
    return new Promise((resolve) => this.#deltaWaiters.push({ n, resolve }));
  }

  addDeltas(n: number, at: number, itemId = "", text = ""): void {
    if (n <= 0) return;
    let item = this.items.get(itemId);
    if (!item) this.items.set(itemId, (item = { text: "", deltas: 0 }));
    item.text += text;
    item.deltas += n;
    if (this.firstDeltaAt < 0) this.firstDeltaAt = at;
    this.deltas += n;
    this.#wake();
  }

  finish(status: string): void {
    if (this.status !== null) return;
    this.status = status;
    this.#resolve(status);
    this.#wake();
  }

  #wake(): void {
    for (let i = this.#deltaWaiters.length - 1; i >= 0; i--) {
      const w = this.#deltaWaiters[i]!;
      if (this.deltas >= w.n || this.status !== null) {
        this.#deltaWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

/** Answers a server request; null leaves it unanswered. */
export type ServerRequestHandler = (method: string, params: any) => unknown;

const DELTA_METHOD = "item/agentMessage/delta";
/** JSON-RPC code of a retryable refusal (overload, shedding). */
const OVERLOADED = -32001;
/** JSON-RPC invalid request, and how a thread that cannot be resumed yet is refused. */
const INVALID_REQUEST = -32600;
const NO_ROLLOUT = /no rollout found for thread id/;
/** turn/start attempts whose answer a closing connection took with it, before that counts as an error. */
const MAX_LOST_TURN_STARTS = 3;
/**
 * How long the resumed stream is watched for a turn whose turn/start answer was lost before it is sent
 * again, ms: a turn/start the closing router had already passed on can still begin on its host.
 */
const LOST_TURN_START_WAIT_MS = 5_000;
/** User messages this process named so far (part of each `clientUserMessageId`). */
let clientMessages = 0;
/** Attempts of one turn/start before a -32001 counts as an error. */
const MAX_OVERLOAD_ATTEMPTS = 20;
const DEFAULT_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 5_000;

/** First wait before reopening a connection the server closed, ms; it doubles per failed attempt. */
const RECONNECT_FIRST_DELAY_MS = 50;
const RECONNECT_MAX_DELAY_MS = 2_000;
/** How long a resuming client keeps trying to reopen its connection before it gives up, ms. */
const RECONNECT_GIVE_UP_MS = 60_000;

export class CodexSession {
  #nextId = 1;
  readonly #pending = new Map<number, { method: string; resolve: (r: any) => void; reject: (e: Error) => void }>();
  readonly #turns = new Map<string, TurnWatch>();
  readonly #seqs = new Map<string, SeqTracker>();
  /** Turn ids (null until seen) by the `clientId` of their user message, for the turn/starts under way. */
  readonly #userMessages = new Map<string, string | null>();
  readonly #userMessageWaiters = new Map<string, (turnId: string) => void>();
  #closing = false;
  #onServerRequest: ServerRequestHandler = () => null;
  /** Resolves with the close code once the session is over (closed on purpose, or lost for good). */
  readonly closed: Promise<number>;
  #resolveClosed!: (code: number) => void;
  /** While a connection the server closed is being reopened and its threads resumed. */
  #reconnecting: Promise<void> | null = null;
  /** Why reopening the connection failed for good. */
  #lost: Error | null = null;
  /** Set once the first connection's handshake is over: a resuming client reconnects from then on. */
  #opened = false;
  /** Followed threads a reopened connection could not resume: no turn had started on them yet. */
  readonly #unresumable = new Set<string>();

  #socket: LoadSocket;
  readonly #platform: Platform;
  readonly #target: Target;
  readonly #clientName: string;

  private constructor(socket: LoadSocket, platform: Platform, target: Target, clientName: string) {
    this.#socket = socket;
    this.#platform = platform;
    this.#target = target;
    this.#clientName = clientName;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#attach(socket);
  }

  /** Connects, initializes and sends `initialized`; records `tm_connect_ms`. */
  static async open(platform: Platform, target: Target, clientName = "threadmesh-loadtest"): Promise<CodexSession> {
    const t0 = platform.now();
    let delay = RECONNECT_FIRST_DELAY_MS;
    for (;;) {
      let s: CodexSession | null = null;
      try {
        const socket = await platform.connect(target.url, CodexSession.#headers(target));
        s = new CodexSession(socket, platform, target, clientName);
        await s.#initialize();
        s.#opened = true;
        platform.add("tm_connect_ms", platform.now() - t0);
        return s;
      } catch (err) {
        // A resuming client opens again when the server closed, refused or answered -32001 to the
        // connection (a draining router) before the handshake was over.
        const refused = err instanceof RpcError && err.code !== OVERLOADED;
        if (target.resume !== true || refused || platform.now() - t0 > RECONNECT_GIVE_UP_MS) throw err;
        if (err instanceof RpcError) platform.add("tm_overloaded", 1);
        if (s !== null) await s.close();
        await platform.sleep(delay);
        delay = Math.min(RECONNECT_MAX_DELAY_MS, delay * 2);
      }
    }
  }

  static #headers(target: Target): Record<string, string> {
    return target.token ? { Authorization: `Bearer ${target.token}` } : {};
  }

  async #initialize(): Promise<void> {
    await this.#send("initialize", { clientInfo: { name: this.#clientName, version: "1" }, capabilities: { optOutNotificationMethods: [] } });
    this.#socket.send(JSON.stringify({ method: "initialized" }));
  }

  #attach(socket: LoadSocket): void {
    socket.onMessage((text) => {
      if (socket === this.#socket) this.#receive(text);
    });
    socket.onClose((code) => {
      if (socket !== this.#socket) return;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      if (this.#closing || (!this.#opened && this.#target.resume === true)) {
        for (const p of pending) p.reject(new ConnectionLostError(p.method, code));
        this.#resolveClosed(code);
        return;
      }
      if (this.#target.resume === true) {
        // The server closed the connection (a draining router, a shed slow reader): reopen it and
        // resume every followed thread after the last seq seen; running turns go on being followed.
        for (const p of pending) p.reject(new ConnectionLostError(p.method, code));
        this.#reconnecting ??= this.#reconnect(code).then(
          () => void (this.#reconnecting = null),
          (err: Error) => void ((this.#lost = err), (this.#reconnecting = null)),
        );
        return;
      }
      this.#platform.add("tm_errors", 1);
      for (const p of pending) p.reject(new Error(`connection closed (${code})`));
      for (const t of this.#turns.values()) t.finish("disconnected");
      this.#resolveClosed(code);
    });
  }

  async #reconnect(code: number): Promise<void> {
    const t0 = this.#platform.now();
    let delay = RECONNECT_FIRST_DELAY_MS;
    for (;;) {
      if (this.#closing) return;
      try {
        const socket = await this.#platform.connect(this.#target.url, CodexSession.#headers(this.#target));
        this.#socket = socket;
        this.#attach(socket);
        await this.#initialize();
        for (const [threadId, seqs] of this.#seqs) {
          if (this.#unresumable.has(threadId)) continue;
          const afterSeq = Math.max(0, seqs.last);
          seqs.anchor(afterSeq);
          let r: any;
          try {
            r = await this.#retrying("thread/resume", { threadId, afterSeq, excludeTurns: true }, undefined, true);
          } catch (err) {
            if (!(err instanceof RpcError) || err.code !== INVALID_REQUEST || !NO_ROLLOUT.test(err.message)) throw err;
            this.#unresumable.add(threadId);
            continue;
          }
          this.#platform.check("resume after a server close recovered the gap", r?.replay == null || r.replay.recovered === true);
        }
        this.#platform.add("tm_server_closes", 1);
        this.#platform.add("tm_resume_ms", this.#platform.now() - t0);
        return;
      } catch (err) {
        // An answer that is an error other than -32001 will not change by reconnecting.
        if (err instanceof RpcError || this.#platform.now() - t0 > RECONNECT_GIVE_UP_MS) {
          this.#platform.add("tm_errors", 1);
          for (const t of this.#turns.values()) t.finish("disconnected");
          this.#resolveClosed(code);
          throw err instanceof RpcError ? err : new Error(`gave up reconnecting after ${RECONNECT_GIVE_UP_MS} ms: ${err instanceof Error ? err.message : String(err)}`);
        }
        await this.#platform.sleep(delay);
        delay = Math.min(RECONNECT_MAX_DELAY_MS, delay * 2);
      }
    }
  }

  /** Sets what answers server requests (approvals, user input); the default leaves them unanswered. */
  onServerRequest(handler: ServerRequestHandler): void {
    this.#onServerRequest = handler;
  }

  /** Sends a request (once a connection being reopened is back) and resolves with its result. */
  async request(method: string, params: unknown): Promise<any> {
    await this.#reconnected();
    return this.#send(method, params);
  }

  /** Waits while the connection is being reopened; throws once it could not be. */
  async #reconnected(): Promise<void> {
    while (this.#reconnecting !== null) await this.#reconnecting;
    if (this.#lost !== null) throw this.#lost;
  }

  #send(method: string, params: unknown): Promise<any> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * A request retried as a well-behaved client does: a -32001 (overloaded, shed, draining) after its
   * `retryAfterMs`, counted in `tm_overloaded`. `onRetry` runs before each new attempt; `reconnecting`:
   * sent by the reopening of the connection itself, which later attempts must not wait for.
   */
  async #retrying(method: string, params: unknown, onRetry?: () => void, reconnecting = false): Promise<any> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#send(method, params);
      } catch (err) {
        if (!(err instanceof RpcError) || err.code !== OVERLOADED || attempt >= MAX_OVERLOAD_ATTEMPTS) throw err;
        this.#platform.add("tm_overloaded", 1);
        await this.#platform.sleep(Math.min(MAX_RETRY_DELAY_MS, err.data?.retryAfterMs ?? DEFAULT_RETRY_DELAY_MS));
        if (!reconnecting) await this.#reconnected();
        onRetry?.();
      }
    }
  }

  /** {@link request} with -32001 answers retried after their `retryAfterMs`. */
  async call(method: string, params: unknown): Promise<any> {
    await this.#reconnected();
    return this.#retrying(method, params);
  }

  /**
   * Starts a turn with one text input, as a well-behaved client does: a retryable -32001 (overloaded,
   * shed) is retried after its `retryAfterMs` and counted in `tm_overloaded`. The time to first delta
   * and the turn's duration run from the attempt that was accepted.
   */
  async startTurn(threadId: string, text: string): Promise<TurnWatch> {
    // Names the turn's user message: the one mark by which a turn whose turn/start answer was lost is
    // told apart from any other (Codex echoes it as the item's `clientId`).
    const clientId = `${this.#clientName}-${++clientMessages}-${Math.random().toString(36).slice(2, 10)}`;
    let turnId: string;
    let sentAt = 0;
    this.#userMessages.set(clientId, null);
    try {
      turnId = await this.#startTurnAttempts(threadId, text, clientId, (at) => (sentAt = at));
    } finally {
      this.#userMessages.delete(clientId);
    }
    const watch = this.#watch(turnId);
    watch.sentAt = sentAt;
    this.#platform.add("tm_turns_started", 1);
    return watch;
  }

  /** Sends turn/start until a turn began; resolves with its id. `sent` hears when the attempt that counts was sent. */
  async #startTurnAttempts(threadId: string, text: string, clientId: string, sent: (at: number) => void): Promise<string> {
    let turnId: string | null = null;
    for (let attempt = 1; turnId === null; attempt++) {
      await this.#reconnected();
      this.#resumable(threadId);
      sent(this.#platform.now());
      try {
        const r = await this.#retrying("turn/start", { threadId, input: [{ type: "text", text }], clientUserMessageId: clientId }, () => sent(this.#platform.now()));
        turnId = String(r.turn.id);
      } catch (err) {
        if (!(err instanceof ConnectionLostError) || this.#target.resume !== true || attempt >= MAX_LOST_TURN_STARTS) throw err;
        this.#platform.add("tm_turn_starts_unanswered", 1);
        turnId = await this.#lostTurnStart(threadId, clientId);
      }
    }
    return turnId;
  }

  /**
   * The turn a turn/start whose answer a closing connection took with it began, or null when it did
   * not: the resumed stream replays the thread's events after the last seq seen, so a turn that began
   * shows its user message (carrying `clientId`) there; thread/read finds one whose events this client
   * missed. A turn/start still on its way to the host when the connection closed begins later, so the
   * stream is watched for a while before the turn is sent again: sent again while the first runs, it
   * would join that turn as a steer instead of starting one.
   */
  async #lostTurnStart(threadId: string, clientId: string): Promise<string | null> {
    await this.#reconnected();
    this.#resumable(threadId);
    const seen = this.#userMessages.get(clientId);
    if (seen != null) return seen;
    const read = await this.call("thread/read", { threadId, includeTurns: true });
    for (const t of read.thread.turns as Array<{ id: string; items?: Array<{ type?: string; clientId?: string | null }> }>) {
      if (t.items?.some((i) => i.type === "userMessage" && i.clientId === clientId)) return t.id;
    }
    return this.#userMessageWithin(clientId, LOST_TURN_START_WAIT_MS);
  }

  /** The turn whose user message carries `clientId`, once it shows on the stream within `ms`; null if it does not. */
  #userMessageWithin(clientId: string, ms: number): Promise<string | null> {
    const seen = this.#userMessages.get(clientId);
    if (seen != null) return Promise.resolve(seen);
    return new Promise((resolve) => {
      let settled = false;
      const done = (turnId: string | null) => {
        if (settled) return;
        settled = true;
        this.#userMessageWaiters.delete(clientId);
        resolve(turnId);
      };
      this.#userMessageWaiters.set(clientId, done);
      void this.#platform.sleep(ms).then(() => done(this.#userMessages.get(clientId) ?? null));
    });
  }

  /** Throws {@link ThreadNotResumableError} (and stops following the thread) when a reconnection could not resume it. */
  #resumable(threadId: string): void {
    if (!this.#unresumable.has(threadId)) return;
    this.#seqs.delete(threadId);
    throw new ThreadNotResumableError(threadId);
  }

  /** Follows a turn (and its thread's seq tracker) that began on another session. */
  adopt(threadId: string, watch: TurnWatch, seqs: SeqTracker): void {
    this.#turns.set(watch.turnId, watch);
    this.#seqs.set(threadId, seqs);
  }

  /**
   * Checks the seqs of this thread's events from now on. Only followed threads are checked: a tenant's
   * other connections also receive some events of threads they do not follow (thread/started,
   * status changes), and those streams have gaps by design.
   */
  follow(threadId: string): SeqTracker {
    let t = this.#seqs.get(threadId);
    if (!t) this.#seqs.set(threadId, (t = new SeqTracker()));
    return t;
  }

  /** The tracker of a followed thread. */
  seqs(threadId: string): SeqTracker {
    return this.follow(threadId);
  }

  /** Closes on purpose: no error is counted and running watches stay open for another session. */
  close(): Promise<number> {
    this.#closing = true;
    this.#socket.close();
    return this.closed;
  }

  #watch(turnId: string): TurnWatch {
    let w = this.#turns.get(turnId);
    if (!w) this.#turns.set(turnId, (w = new TurnWatch(turnId)));
    return w;
  }

  #receive(text: string): void {
    let f: any;
    try {
      f = JSON.parse(text);
    } catch {
      this.#platform.add("tm_errors", 1);
      return;
    }
    if (f.method === undefined) {
      const p = this.#pending.get(f.id);
      if (!p) return;
      this.#pending.delete(f.id);
      if (f.error) p.reject(new RpcError(p.method, f.error.code, f.error.message, f.error.data));
      else p.resolve(f.result);
      return;
    }
    const params = f.params ?? {};
    let fresh = 1;
    // Some thread events name no thread (account/rateLimits/updated); on a session that follows one
    // thread, its seq is that thread's.
    const named = typeof params.threadId === "string" ? params.threadId : typeof params.thread?.id === "string" ? params.thread.id : null;
    const threadId = named ?? (this.#seqs.size === 1 ? this.#seqs.keys().next().value! : null);
    const tracker = threadId !== null ? this.#seqs.get(threadId) : undefined;
    if (typeof f.seq === "number" && tracker !== undefined) {
      fresh = tracker.observe(typeof f.firstSeq === "number" ? f.firstSeq : f.seq, f.seq);
    } else if (f.id !== undefined && tracker !== undefined) tracker.unnumbered();
    // Server requests (approvals) are thread events too: their seq counts before they are answered.
    if (f.id !== undefined) return this.#serverRequest(f);
    if (f.method === DELTA_METHOD && typeof params.turnId === "string") {
      const whole = typeof f.firstSeq === "number" ? f.seq - f.firstSeq + 1 : 1;
      const text = fresh === whole && typeof params.delta === "string" ? params.delta : "";
      this.#watch(params.turnId).addDeltas(fresh, this.#platform.now(), String(params.itemId ?? ""), text);
      if (fresh > 0) this.#platform.add("tm_deltas", fresh);
    } else if (f.method === "item/started" && params.item?.type === "userMessage" && typeof params.item.clientId === "string" && typeof params.turnId === "string") {
      // Only the messages of this client's turn/starts still under way are kept.
      if (this.#userMessages.has(params.item.clientId)) this.#userMessages.set(params.item.clientId, params.turnId);
      this.#userMessageWaiters.get(params.item.clientId)?.(params.turnId);
    } else if (f.method === "turn/completed" && params.turn) {
      this.#watch(String(params.turn.id)).finish(String(params.turn.status));
    }
  }

  #serverRequest(f: any): void {
    let result: unknown;
    try {
      result = this.#onServerRequest(f.method, f.params);
    } catch {
      result = null;
    }
    if (result !== null && result !== undefined) this.#socket.send(JSON.stringify({ id: f.id, result }));
  }
}
