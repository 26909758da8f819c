import { request as httpRequest } from "node:http";
import WebSocket from "ws";
import { InProcessBus, MemoryEventLog, type BusMessage, type EventLog, type ReplayWindow, type Subscription } from "@threadmesh/mesh";
import {
  BROADCAST_WILDCARD,
  THREAD_EVENT_WILDCARD,
  ENVELOPE_VERSION,
  EventHeader,
  HOST_QUEUE_GROUP,
  MeshMethod,
  PLACE_WILDCARD,
  TEXT_ENCODER,
  broadcastSubject,
  decodeEnvelope,
  encodeEnvelope,
  encodeNotification,
  newId,
  threadCommandSubject,
  threadEventSubject,
  type CommandEnvelope,
  type PendingServerRequest,
  type ReplyEnvelope,
} from "@threadmesh/protocol";
import { noopTelemetry, type Telemetry } from "@threadmesh/telemetry";
import { Router, type Authenticator, type MeshView, type RouterConfig } from "@threadmesh/router";

export const TENANT = "default";

/** A JSON frame as the client received it, plus its raw text. */
export type Frame = Record<string, unknown> & { readonly __raw: string };

type Reply = ReplyEnvelope | null | Promise<ReplyEnvelope | null>;

/** One command a host received, with the subject it arrived on. */
export interface Received {
  readonly env: CommandEnvelope;
  readonly subject: string;
}

/**
 * A minimal session host on the bus: answers placement and owned-thread commands with envelopes (a
 * handler per test can override), remembers every command, and publishes events with the contract's
 * headers.
 */
export class FakeHost {
  readonly commands: Received[] = [];
  /** Pending server requests per thread, replayed on resume by the default handler. */
  readonly pending = new Map<string, PendingServerRequest[]>();
  /** Returns the reply, null to stay silent (timeout), or undefined for the default behaviour. */
  handler: ((r: Received) => Reply | undefined) | undefined;
  readonly #bus: InProcessBus;
  #log: InProcessBus | undefined;
  readonly #subs: Subscription[] = [];
  readonly #owned = new Map<string, Subscription>();
  readonly #waiters: Array<{ pred: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  /** Last seq per thread: like a real owner, each thread numbers its events on its own. */
  readonly #seqs = new Map<string, number>();

  constructor(bus: InProcessBus) {
    this.#bus = bus;
    this.#subs.push(bus.subscribe(PLACE_WILDCARD, (m) => this.#on(m), { queue: HOST_QUEUE_GROUP }));
  }

  /** Subscribes the thread's command subject, as an owning host does. */
  own(threadId: string, tenant = TENANT): void {
    if (this.#owned.has(threadId)) return;
    this.#owned.set(threadId, this.#bus.subscribe(threadCommandSubject(tenant, threadId), (m) => this.#on(m)));
  }

  disown(threadId: string): void {
    this.#owned.get(threadId)?.unsubscribe();
    this.#owned.delete(threadId);
  }

  /** The first command (already received or future) matching `pred`. */
  waitFor(pred: (r: Received) => boolean): Promise<Received> {
    const found = this.commands.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }

  waitForMethod(method: string): Promise<Received> {
    return this.waitFor((r) => r.env.method === method);
  }

  /** Publishes a thread notification (kind `n`); returns its seq. */
  notify(threadId: string, method: string, params: unknown, opts: { epoch?: number; seq?: number; tenant?: string; lost?: boolean } = {}): number {
    const seq = opts.seq ?? this.#next(threadId);
    if (opts.seq !== undefined) this.#seqs.set(threadId, Math.max(this.#seqs.get(threadId) ?? 0, opts.seq));
    const frame = encodeNotification(method, params, { seq });
    this.#publish(threadEventSubject(opts.tenant ?? TENANT, threadId), TEXT_ENCODER.encode(frame), this.#headers(threadId, method, "n", seq, opts.epoch), opts.lost);
    return seq;
  }

  /** Publishes consecutive thread notifications as one batch (kind `b`); returns their seqs. */
  batch(threadId: string, notes: Array<[method: string, params: unknown]>): number[] {
    const seqs = notes.map(() => this.#next(threadId));
    const frames = notes.map(([method, params], i) => encodeNotification(method, params, { seq: seqs[i]! }));
    const headers: Record<string, string> = {
      [EventHeader.Kind]: "b",
      [EventHeader.ThreadId]: threadId,
      [EventHeader.FirstSeq]: String(seqs[0]),
      [EventHeader.Seq]: String(seqs.at(-1)),
      [EventHeader.Epoch]: "1",
    };
    this.#bus.publish(threadEventSubject(TENANT, threadId), TEXT_ENCODER.encode(frames.join("\n")), headers);
    return seqs;
  }

  /** Publishes a tenant-wide notification. */
  broadcast(threadId: string, method: string, params: unknown, opts: { drop?: boolean; epoch?: number; tenant?: string } = {}): void {
    const seq = this.#next(threadId);
    const headers = this.#headers(threadId, method, "n", seq, opts.epoch);
    if (opts.drop) headers[EventHeader.DropSubscriptions] = "1";
    this.#bus.publish(broadcastSubject(opts.tenant ?? TENANT, threadId), TEXT_ENCODER.encode(encodeNotification(method, params, { seq })), headers);
  }

  /** Publishes a server request (kind `r`) and records it as pending. */
  serverRequest(threadId: string, requestKey: string, method: string, params: unknown): number {
    const seq = this.#next(threadId);
    const list = this.pending.get(threadId) ?? [];
    list.push({ requestKey, method, params });
    this.pending.set(threadId, list);
    const headers = this.#headers(threadId, method, "r", seq);
    headers[EventHeader.RequestKey] = requestKey;
    this.#bus.publish(threadEventSubject(TENANT, threadId), TEXT_ENCODER.encode(JSON.stringify(params)), headers);
    return seq;
  }

  /** Publishes the resolution (kind `x`) of a server request. */
  resolved(threadId: string, requestKey: string, method: string): number {
    const seq = this.#next(threadId);
    this.pending.set(threadId, (this.pending.get(threadId) ?? []).filter((p) => p.requestKey !== requestKey));
    const headers = this.#headers(threadId, method, "x", seq);
    headers[EventHeader.RequestKey] = requestKey;
    this.#bus.publish(threadEventSubject(TENANT, threadId), new Uint8Array(0), headers);
    return seq;
  }

  /** The thread's next seq. */
  #next(threadId: string): number {
    const seq = (this.#seqs.get(threadId) ?? 0) + 1;
    this.#seqs.set(threadId, seq);
    return seq;
  }

  /** Numbers the thread's next `n` events without publishing them, as events lost on the way would be. */
  skip(threadId: string, n: number): void {
    this.#seqs.set(threadId, (this.#seqs.get(threadId) ?? 0) + n);
  }

  /**
   * The event log behind the router's bus: it captures everything the host publishes, also what the
   * router's subscription lost (`lost: true`), as JetStream does on a real mesh.
   */
  attachLog(log: InProcessBus): void {
    this.#log = log;
  }

  #publish(subject: string, data: Uint8Array, headers: Record<string, string>, lost = false): void {
    if (lost) {
      if (this.#log === undefined) throw new Error("a lost event needs the harness's event log (replayWindow)");
      this.#log.publish(subject, data, headers);
    } else {
      this.#bus.publish(subject, data, headers);
    }
  }

  close(): void {
    for (const s of this.#subs) s.unsubscribe();
    for (const s of this.#owned.values()) s.unsubscribe();
  }

  #headers(threadId: string, method: string, kind: string, seq: number, epoch = 1): Record<string, string> {
    return {
      [EventHeader.Method]: method,
      [EventHeader.Kind]: kind,
      [EventHeader.ThreadId]: threadId,
      [EventHeader.Seq]: String(seq),
      [EventHeader.Epoch]: String(epoch),
    };
  }

  #on(msg: BusMessage): void {
    const env = decodeEnvelope<CommandEnvelope>(msg.data);
    const r: Received = { env, subject: msg.subject };
    this.commands.push(r);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.pred(r)) {
        this.#waiters.splice(i, 1);
        w.resolve(r);
      }
    }
    const custom = this.handler?.(r);
    const reply = custom === undefined ? this.#default(r) : custom;
    void Promise.resolve(reply).then((rep) => {
      if (rep !== null) msg.respond(encodeEnvelope(rep));
    });
  }

  #default(r: Received): ReplyEnvelope {
    const p = r.env.params as { threadId?: string };
    switch (r.env.method) {
      case "thread/start": {
        const id = newId();
        this.own(id);
        return { v: ENVELOPE_VERSION, ok: true, result: { thread: { id } }, subscribe: id };
      }
      case "thread/resume":
        return {
          v: ENVELOPE_VERSION,
          ok: true,
          result: { thread: { id: p.threadId } },
          subscribe: p.threadId!,
          lastSeq: this.#seqs.get(p.threadId!) ?? 0,
          pendingRequests: this.pending.get(p.threadId!) ?? [],
        };
      case "thread/unsubscribe":
        return { v: ENVELOPE_VERSION, ok: true, result: { status: "unsubscribed" }, unsubscribe: p.threadId! };
      case MeshMethod.RespondServerRequest:
      case MeshMethod.ConnectionClosed:
        return { v: ENVELOPE_VERSION, ok: true, result: {} };
      default:
        return { v: ENVELOPE_VERSION, ok: true, result: { echo: r.env.method } };
    }
  }
}

/** A WebSocket client that records every frame and lets tests await frames, never delays. */
export class TestClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #nextId = 1;
  readonly #waiters: Array<{ pred: (f: Frame) => boolean; from: number; resolve: (f: Frame) => void }> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("message", (data: Buffer) => {
      const raw = data.toString("utf8");
      const f = Object.assign(JSON.parse(raw) as Record<string, unknown>, { __raw: raw }) as Frame;
      this.frames.push(f);
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        const w = this.#waiters[i]!;
        if (this.frames.length - 1 >= w.from && w.pred(f)) {
          this.#waiters.splice(i, 1);
          w.resolve(f);
        }
      }
    });
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new TestClient(ws)));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade failed: ${res.statusCode}`)));
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Sends a request and resolves with its response or error frame. */
  request(method: string, params?: unknown, extra: Record<string, unknown> = {}): Promise<Frame> {
    const id = this.#nextId++;
    const msg: Record<string, unknown> = { id, method, ...extra };
    if (params !== undefined) msg.params = params;
    const reply = this.waitFor((f) => f.id === id && !("method" in f));
    this.send(msg);
    return reply;
  }

  async initialize(name = "test-client", capabilities?: Record<string, unknown>): Promise<Frame> {
    const r = await this.request("initialize", { clientInfo: { name, version: "1.2.3" }, ...(capabilities ? { capabilities } : {}) });
    this.send({ method: "initialized" });
    return r;
  }

  /** The first frame at index >= `from` matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    return new Promise((resolve) => this.#waiters.push({ pred, from, resolve }));
  }

  waitForMethod(method: string, from = 0): Promise<Frame> {
    return this.waitFor((f) => f.method === method, from);
  }

  /** Methods (and `#id` for answers) of the frames seen, less the handshake's `remoteControl/status/changed`. */
  methods(): string[] {
    return this.frames.filter((f) => f.method !== "remoteControl/status/changed").map((f) => (typeof f.method === "string" ? f.method : `#${String(f.id)}`));
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

/** A plain HTTP request against the router; for upgrades, what came back instead of a 101. */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; contentType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, contentType: res.headers["content-type"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Attempts a WebSocket upgrade and returns the HTTP answer when it is refused. */
export function tryUpgrade(port: number, headers: Record<string, string> = {}, path = "/"): Promise<{ status: number; body: string; contentType: string | undefined }> {
  return httpGet(port, path, {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    ...headers,
  }).catch((err: unknown) => {
    throw err;
  });
}

export interface Harness {
  readonly router: Router;
  readonly bus: InProcessBus;
  readonly host: FakeHost;
  readonly telemetry: Telemetry;
  readonly url: string;
  readonly port: number;
  /** Port of the metrics listener; null unless `metricsPort` was configured. */
  readonly metricsPort: number | null;
  /** Connects and (unless `init: false`) initializes a client. */
  client(opts?: { headers?: Record<string, string>; init?: boolean; name?: string; capabilities?: Record<string, unknown> }): Promise<TestClient>;
  /** Value of a counter or gauge sample, summed over label sets matching `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/** A router on port 0 with dev mode on, pings off, an in-process bus and a fake host. */
export async function startRouter(
  config: RouterConfig = {},
  opts: { replayWindow?: Partial<ReplayWindow>; mesh?: MeshView; authenticator?: Authenticator; wrapEventLog?: (log: EventLog) => EventLog } = {},
): Promise<Harness> {
  const bus = new InProcessBus();
  const telemetry = noopTelemetry();
  const host = new FakeHost(bus);
  // Only replay tests get a window: it listens on every event subject, which others check for silence.
  // The log reads a feed of its own, fed from the router's bus, so events can reach it and not the router.
  const logFeed = opts.replayWindow === undefined ? undefined : new InProcessBus();
  const eventLog = logFeed === undefined ? undefined : new MemoryEventLog(logFeed, opts.replayWindow);
  if (logFeed !== undefined) {
    for (const pattern of [THREAD_EVENT_WILDCARD, BROADCAST_WILDCARD]) bus.subscribe(pattern, (m) => logFeed.publish(m.subject, m.data, m.headers));
    host.attachLog(logFeed);
  }
  const router = await Router.create({
    bus,
    telemetry,
    eventLog: eventLog !== undefined && opts.wrapEventLog !== undefined ? opts.wrapEventLog(eventLog) : eventLog,
    routerId: "router-test",
    config: { devMode: true, pingIntervalMs: 0, ...config },
    ...(opts.mesh ? { mesh: opts.mesh } : {}),
    ...(opts.authenticator ? { authenticator: opts.authenticator } : {}),
  });
  const { url, port, metricsUrl } = await router.listen();
  const clients: TestClient[] = [];
  return {
    router,
    bus,
    host,
    telemetry,
    url,
    port,
    metricsPort: metricsUrl === null ? null : Number(new URL(metricsUrl).port),
    async client(opts = {}) {
      const c = await TestClient.connect(url, opts.headers);
      clients.push(c);
      if (opts.init !== false) await c.initialize(opts.name, opts.capabilities);
      return c;
    },
    async metric(name, labels = {}) {
      const m = telemetry.metrics.registry.getSingleMetric(name);
      if (!m) return 0;
      const { values } = await m.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      for (const c of clients) c.ws.terminate();
      await router.close();
      host.close();
      await eventLog?.close();
      await logFeed?.close();
      await bus.close();
    },
  };
}

/** Resolves after the bus has delivered everything published so far and the router has flushed its writes. */
export async function settle(bus: InProcessBus): Promise<void> {
  await bus.flush();
  await new Promise((r) => setImmediate(r));
}
