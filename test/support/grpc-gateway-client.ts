import * as grpc from "@grpc/grpc-js";
import { gatewayClient, type FrameMessage } from "@threadmesh/router";

type Json = Record<string, any>;

/** How a call ended, as the client saw it. */
export interface CallEnd {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

/**
 * A JSON-RPC client over a real `threadmesh.gateway.v1.Gateway/Connect` call, for tests and the
 * benchmark: every frame is recorded; requests resolve with their response frame.
 */
export class GrpcTestClient {
  readonly frames: Json[] = [];
  /** Frames received, counted even when `record` is off. */
  received = 0;
  #nextId = 1;
  readonly #pending = new Map<string, (f: Json) => void>();
  readonly #waiters: Array<{ pred: (f: Json) => boolean; resolve: (f: Json) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  #end: CallEnd | null = null;
  readonly #endWaiters: Array<(e: CallEnd) => void> = [];
  /** Called for every frame before it is recorded. */
  onFrame: ((f: Json) => void) | undefined;

  private constructor(
    readonly client: grpc.Client,
    readonly stream: grpc.ClientDuplexStream<FrameMessage, FrameMessage>,
    readonly record: boolean,
  ) {
    stream.on("data", (m: FrameMessage) => this.#onFrame(m.json));
    stream.on("error", () => {
      // The status event reports how the call ended.
    });
    stream.on("status", (s: grpc.StatusObject) => {
      this.#end = { code: s.code, details: s.details, metadata: s.metadata };
      for (const w of this.#endWaiters.splice(0)) w(this.#end);
      for (const [key, p] of this.#pending) p({ id: JSON.parse(key), error: { code: -1, message: `call ended (${s.code} ${s.details})` }, closed: true });
      this.#pending.clear();
    });
  }

  /** Opens a call; `token` goes in `authorization: Bearer`. Resolves once the server accepted it or ended it. */
  static async connect(address: string, opts: { token?: string | null; record?: boolean } = {}): Promise<GrpcTestClient> {
    const Ctor = gatewayClient();
    const client = new Ctor(address, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": -1 });
    const md = new grpc.Metadata();
    if (opts.token) md.set("authorization", `Bearer ${opts.token}`);
    const call = (client as unknown as { Connect(md: grpc.Metadata): grpc.ClientDuplexStream<FrameMessage, FrameMessage> }).Connect(md);
    const c = new GrpcTestClient(client, call, opts.record ?? true);
    await new Promise<void>((resolve) => {
      call.once("metadata", () => resolve());
      call.once("status", () => resolve());
    });
    return c;
  }

  /** Connects and completes the handshake; rejects when the call was refused. */
  static async initialized(address: string, opts: { token?: string | null; record?: boolean } = {}): Promise<GrpcTestClient> {
    const c = await GrpcTestClient.connect(address, opts);
    if (c.ended) throw new Error(`call refused: ${c.ended.code} ${c.ended.details}`);
    await c.call("initialize", { clientInfo: { name: "grpc-partner", title: "gRPC partner", version: "1.0.0" }, capabilities: { experimentalApi: false } });
    c.notify("initialized");
    return c;
  }

  #onFrame(text: string): void {
    const f = JSON.parse(text) as Json;
    this.received++;
    this.onFrame?.(f);
    if (this.record) this.frames.push(f);
    if ("id" in f && !("method" in f)) {
      const key = JSON.stringify(f.id);
      const p = this.#pending.get(key);
      if (p) {
        this.#pending.delete(key);
        p(f);
      }
    }
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.pred(f)) {
        clearTimeout(w.timer);
        this.#waiters.splice(i, 1);
        w.resolve(f);
      }
    }
  }

  /** Sends one frame as is. */
  send(json: string): void {
    this.stream.write({ json });
  }

  request(method: string, params?: unknown): Promise<Json> {
    const id = this.#nextId++;
    const p = new Promise<Json>((resolve) => this.#pending.set(JSON.stringify(id), resolve));
    this.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
    return p;
  }

  async call(method: string, params?: unknown): Promise<Json> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(`${method}: ${r.error.code} ${r.error.message}`), { rpc: r.error });
    return r.result as Json;
  }

  notify(method: string, params?: unknown): void {
    this.send(JSON.stringify(params === undefined ? { method } : { method, params }));
  }

  respond(id: number | string, result: unknown): void {
    this.send(JSON.stringify({ id, result }));
  }

  waitFor(pred: (f: Json) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<Json> {
    for (let i = opts.from ?? 0; i < this.frames.length; i++) if (pred(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const idx = this.#waiters.findIndex((w) => w.timer === timer);
        if (idx >= 0) this.#waiters.splice(idx, 1);
        reject(new Error(`timed out waiting for a frame; last: ${this.frames.slice(-5).map((f) => f.method ?? JSON.stringify(f).slice(0, 80)).join(", ")}`));
      }, opts.timeoutMs ?? 20_000);
      this.#waiters.push({ pred, resolve, reject, timer });
    });
  }

  get ended(): CallEnd | null {
    return this.#end;
  }

  waitEnd(): Promise<CallEnd> {
    if (this.#end) return Promise.resolve(this.#end);
    return new Promise((r) => this.#endWaiters.push(r));
  }

  /** Half-closes and waits for the server's status. */
  async close(): Promise<CallEnd> {
    if (!this.#end) this.stream.end();
    const e = await this.waitEnd();
    this.client.close();
    return e;
  }

  /** Breaks the call (RST_STREAM) and drops the channel, as a partner crashing would. */
  cancel(): void {
    this.stream.cancel();
    this.client.close();
  }
}
