import { WebSocket } from "ws";
import { codexSchema } from "./codex-schema.ts";

type Json = Record<string, any>;

export interface ClientOptions {
  token?: string | null;
  headers?: Record<string, string>;
  /** Validate every server frame against the official schema (default true). */
  validate?: boolean;
}

/**
 * A JSON-RPC client over a real WebSocket for end-to-end tests. Every frame the server sends is
 * recorded and checked against the official Codex schema; `schemaViolations` lists failures.
 */
export class TestClient {
  readonly frames: Json[] = [];
  readonly schemaViolations: string[] = [];
  private nextId = 1;
  private readonly pending = new Map<string, { method: string; resolve: (f: Json) => void }>();
  private readonly waiters: Array<{ pred: (f: Json) => boolean; from: number; resolve: (f: Json) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private closedWith: { code: number; reason: string } | null = null;
  private readonly closeWaiters: Array<(c: { code: number; reason: string }) => void> = [];
  private readonly validate: boolean;

  private constructor(readonly ws: WebSocket, opts: ClientOptions) {
    this.validate = opts.validate ?? true;
    ws.on("message", (data, isBinary) => this.onFrame(data.toString(), isBinary));
    ws.on("close", (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w(this.closedWith);
      // A request the server can no longer answer ends with an error naming the close, never hangs.
      for (const [key, p] of this.pending) p.resolve(this.closedAnswer(key, p.method));
      this.pending.clear();
    });
  }

  static async connect(url: string, opts: ClientOptions = {}): Promise<TestClient> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = new TestClient(ws, opts);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return client;
  }

  /** Connects and completes the handshake. */
  static async initialized(url: string, opts: ClientOptions & { name?: string; experimentalApi?: boolean; optOut?: string[] } = {}): Promise<TestClient> {
    const c = await TestClient.connect(url, opts);
    await c.call("initialize", {
      clientInfo: { name: opts.name ?? "e2e", title: "E2E", version: "1.0.0" },
      capabilities: { experimentalApi: opts.experimentalApi ?? false, optOutNotificationMethods: opts.optOut ?? null },
    });
    c.notify("initialized");
    return c;
  }

  private onFrame(text: string, isBinary: boolean): void {
    let f: Json;
    try {
      f = JSON.parse(text) as Json;
    } catch {
      this.schemaViolations.push(`unparsable frame: ${text.slice(0, 200)}`);
      return;
    }
    if (isBinary) this.schemaViolations.push("binary frame from server");
    const key = "id" in f && !("method" in f) ? JSON.stringify(f.id) : null;
    const p = key !== null ? this.pending.get(key) : undefined;
    if (this.validate) {
      const problem = codexSchema().check(f, p?.method);
      if (problem) this.schemaViolations.push(problem);
    }
    this.frames.push(f);
    if (p && key !== null) {
      this.pending.delete(key);
      p.resolve(f);
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.pred(f)) {
        clearTimeout(w.timer);
        this.waiters.splice(i, 1);
        w.resolve(f);
      }
    }
  }

  /** Sends a request and resolves with the whole response frame (result or error). */
  request(method: string, params?: unknown, id: number | string = this.nextId++): Promise<Json> {
    const frame: Json = { id, method };
    if (params !== undefined) frame.params = params;
    return this.sendRaw(JSON.stringify(frame), id, method);
  }

  /** Sends a request and resolves with its result; rejects on an error response. */
  async call(method: string, params?: unknown): Promise<Json> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(`${method}: ${r.error.code} ${r.error.message}`), { rpc: r.error });
    return r.result as Json;
  }

  sendRaw(text: string, id?: number | string, method = "?"): Promise<Json> {
    if (this.closedWith !== null) return Promise.resolve(id === undefined ? {} : this.closedAnswer(JSON.stringify(id), method));
    const p = id === undefined ? Promise.resolve({}) : new Promise<Json>((resolve) => this.pending.set(JSON.stringify(id), { method, resolve }));
    this.ws.send(text);
    return p;
  }

  /** The stand-in answer (not a server frame, not recorded) to a request on a closed connection. */
  private closedAnswer(key: string, method: string): Json {
    const c = this.closedWith;
    return { id: JSON.parse(key) as unknown, error: { code: -1, message: `connection closed (${c?.code} ${c?.reason}) before ${method} was answered` }, closed: true };
  }

  notify(method: string, params?: unknown): void {
    this.ws.send(JSON.stringify(params === undefined ? { method } : { method, params }));
  }

  /** Answers a server request. */
  respond(id: number | string, result: unknown): void {
    this.ws.send(JSON.stringify({ id, result }));
  }
  respondError(id: number | string, code: number, message: string): void {
    this.ws.send(JSON.stringify({ id, error: { code, message } }));
  }

  /** The next frame (already received after index `from`, or arriving later) matching `pred`. */
  waitFor(pred: (f: Json) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<Json> {
    const from = opts.from ?? 0;
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const idx = this.waiters.findIndex((w) => w.timer === timer);
        if (idx >= 0) this.waiters.splice(idx, 1);
        reject(new Error(`timed out waiting for frame; last frames: ${this.frames.slice(-5).map((f) => f.method ?? JSON.stringify(f).slice(0, 80)).join(", ")}`));
      }, opts.timeoutMs ?? 20_000);
      this.waiters.push({ pred, from, resolve, reject, timer });
    });
  }

  waitForMethod(method: string, opts: { from?: number; timeoutMs?: number; threadId?: string } = {}): Promise<Json> {
    return this.waitFor((f) => f.method === method && (!opts.threadId || f.params?.threadId === opts.threadId), opts);
  }

  /** Methods of notifications (and server requests) received from index `from`, optionally for one thread. */
  methods(from = 0, threadId?: string): string[] {
    return this.frames
      .slice(from)
      .filter((f) => typeof f.method === "string" && (!threadId || f.params?.threadId === threadId || f.params?.thread?.id === threadId))
      .map((f) => f.method as string);
  }

  get closed(): { code: number; reason: string } | null {
    return this.closedWith;
  }
  waitClose(): Promise<{ code: number; reason: string }> {
    if (this.closedWith) return Promise.resolve(this.closedWith);
    return new Promise((r) => this.closeWaiters.push(r));
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    const done = this.waitClose();
    this.ws.close();
    await done;
  }
}
