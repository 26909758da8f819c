import { WebSocket } from "ws";
import { now } from "./bench-client.ts";

const DELTA_PREFIX = '{"method":"item/agentMessage/delta"';
const COMPLETED_PREFIX = '{"method":"turn/completed"';
const THREAD_KEY = '"threadId":"';
const DELTA_KEY = '"delta":"';
/** Inter-delta gaps are counted in 1 ms buckets up to this, in ms; longer ones in the last bucket. */
const GAP_BUCKETS = 60_000;

/** Counts of values in 1 ms buckets: percentiles without keeping every value. */
export class MsHistogram {
  readonly #counts = new Uint32Array(GAP_BUCKETS + 1);
  count = 0;
  max = 0;

  add(ms: number): void {
    const b = Math.min(GAP_BUCKETS, Math.max(0, Math.floor(ms)));
    this.#counts[b]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The bucket (ms) the `p`th percentile falls in. */
  pct(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i <= GAP_BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return i;
    }
    return GAP_BUCKETS;
  }
}

/** One turn as the load generator sees it: the text it must receive, delta by delta. */
export class StreamedTurn {
  readonly sentAt: number;
  readonly expected: string;
  readonly chunks: number;
  firstAt = 0;
  lastAt = 0;
  offset = 0;
  frames = 0;
  textExact = true;
  status: string | null = null;
  readonly done: Promise<void>;
  #resolve!: () => void;

  constructor(chunks: readonly string[], sentAt: number) {
    this.expected = chunks.join("");
    this.chunks = chunks.length;
    this.sentAt = sentAt;
    this.done = new Promise((r) => (this.#resolve = r));
  }

  complete(status: string): void {
    this.status = status;
    this.#resolve();
  }

  /** True once every chunk arrived, in order, and nothing else. */
  get whole(): boolean {
    return this.textExact && this.offset === this.expected.length;
  }
}

export interface StreamClientSinks {
  /** Gaps between consecutive deltas of a thread, for turns of the measured window. */
  gaps: MsHistogram;
  /** Whether a delta arriving now counts towards the measured window. */
  measuring: () => boolean;
}

/**
 * A load-generator connection streaming many threads' turns: deltas are matched to their turn by
 * thread id and checked against the expected text without parsing the frame (the texts hold no
 * characters JSON escapes); only responses and turn/completed are parsed.
 */
export class StreamClient {
  #id = 1;
  readonly #pending = new Map<number, (f: any) => void>();
  /** The running turn of each thread of this connection. */
  readonly turns = new Map<string, StreamedTurn>();
  /** turn/completed that arrived before the turn was registered (its turn/start reply still in flight). */
  readonly #early = new Map<string, string>();
  unexpectedDeltas = 0;

  private constructor(private readonly ws: WebSocket, sinks: StreamClientSinks) {
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith(DELTA_PREFIX)) return this.#delta(s, sinks);
      if (s.startsWith('{"id":')) {
        const f = JSON.parse(s);
        this.#pending.get(f.id)?.(f);
        this.#pending.delete(f.id);
        return;
      }
      if (s.startsWith(COMPLETED_PREFIX)) {
        const f = JSON.parse(s);
        const threadId = f.params.threadId as string;
        const t = this.turns.get(threadId);
        if (t) {
          this.turns.delete(threadId);
          t.complete(String(f.params.turn.status));
        } else this.#early.set(threadId, String(f.params.turn.status));
      }
    });
  }

  static async connect(url: string, token: string, sinks: StreamClientSinks): Promise<StreamClient> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    const c = new StreamClient(ws, sinks);
    await c.call("initialize", { clientInfo: { name: "bench-capacity", version: "1" }, capabilities: { optOutNotificationMethods: [] } });
    ws.send(JSON.stringify({ method: "initialized" }));
    return c;
  }

  /** Sends a request; resolves with the whole response frame (result or error). */
  request(method: string, params: unknown): Promise<{ result?: any; error?: { code: number; message: string; data?: any } }> {
    const id = this.#id++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async call(method: string, params: unknown): Promise<any> {
    const f = await this.request(method, params);
    if (f.error) throw new Error(`${method}: ${f.error.message}`);
    return f.result;
  }

  /** Starts a turn expected to stream `chunks`; the error of a refused or failed turn/start, else the turn. */
  async startTurn(threadId: string, chunks: readonly string[]): Promise<{ turn: StreamedTurn } | { error: { code: number; message: string; data?: any } }> {
    const t = new StreamedTurn(chunks, now());
    // Registered before the reply: the first deltas may arrive with it.
    this.turns.set(threadId, t);
    const f = await this.request("turn/start", { threadId, input: [{ type: "text", text: "stream" }] });
    if (f.error) {
      this.turns.delete(threadId);
      return { error: f.error };
    }
    const early = this.#early.get(threadId);
    if (early !== undefined) {
      this.#early.delete(threadId);
      this.turns.delete(threadId);
      t.complete(early);
    }
    return { turn: t };
  }

  #delta(s: string, sinks: StreamClientSinks): void {
    const at = now();
    const i = s.indexOf(THREAD_KEY) + THREAD_KEY.length;
    const threadId = s.slice(i, s.indexOf('"', i));
    const t = this.turns.get(threadId);
    if (!t) {
      this.unexpectedDeltas++;
      return;
    }
    const j = s.indexOf(DELTA_KEY) + DELTA_KEY.length;
    const delta = s.slice(j, s.indexOf('"', j));
    if (t.firstAt === 0) t.firstAt = at;
    else if (sinks.measuring()) sinks.gaps.add(at - t.lastAt);
    t.lastAt = at;
    t.frames++;
    if (t.textExact && t.expected.startsWith(delta, t.offset)) t.offset += delta.length;
    else t.textExact = false;
  }

  async close(): Promise<void> {
    const closed = new Promise((r) => this.ws.once("close", r));
    this.ws.close();
    await closed;
  }
}
