import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";

/** Wall-clock ms with sub-ms resolution, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

const DELTA_PREFIX = '{"method":"item/agentMessage/delta"';
const COMPLETED_PREFIX = '{"method":"turn/completed"';
const ITEM_COMPLETED_PREFIX = '{"method":"item/completed"';
const SEQ_KEY = '"seq":';

/**
 * The top-level `seq` of a notification frame without parsing it: `encodeNotification` writes `seq`
 * and `epoch` after `params`, so the last `"seq":` of the frame is the top-level one. -1 when absent.
 */
export function frameSeq(s: string): number {
  const i = s.lastIndexOf(SEQ_KEY);
  if (i < 0) return -1;
  let n = 0;
  let k = i + SEQ_KEY.length;
  let any = false;
  for (; k < s.length; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
    any = true;
  }
  return any ? n : -1;
}

export interface BenchClientOptions {
  /** Called with every notification frame (text) and its arrival time; off the delta fast path otherwise. */
  onNotification?: (s: string, at: number) => void;
  /** Keep the frames a delivery audit needs (default true); off for a connection that only drives turns. */
  keepFrames?: boolean;
}

/**
 * A lean benchmark client (as in bench/run.ts): JSON-parses only responses and turn/completed frames,
 * counts deltas by frame prefix, so the client costs as little CPU as possible on a shared machine.
 * The frames a delivery audit needs (deltas, item/completed, turn/completed) are kept as text and
 * parsed only when `auditFrames` is called, after the measurement.
 */
export class BenchClient {
  #id = 1;
  readonly #pending = new Map<number, (r: any) => void>();
  deltas = 0;
  /** Completed turns by status; a failed turn still completes, usually without its deltas. */
  readonly turnStatuses: Record<string, number> = {};
  /** The error of the first turns that did not complete normally. */
  readonly turnErrors: string[] = [];
  readonly #turnWaiters = new Map<string, (at: number) => void>();
  /** turn/completed frames that arrived before the turn/start response was handled. */
  readonly #early = new Map<string, number>();
  readonly closed: Promise<void>;
  /** The close code and reason the connection ended with (1006 and "" when it ended without a close frame). */
  readonly closeEvent: Promise<{ code: number; reason: string }>;
  /** Delta, item/completed and turn/completed frames as received, for {@link auditFrames}. */
  #kept: string[] = [];

  private constructor(private readonly ws: WebSocket, opts: BenchClientOptions) {
    const onNotification = opts.onNotification;
    const keep = opts.keepFrames !== false;
    this.closeEvent = new Promise((r) => ws.once("close", (code, reason) => r({ code, reason: reason.toString() })));
    this.closed = this.closeEvent.then(() => undefined);
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith(DELTA_PREFIX)) {
        this.deltas++;
        if (keep) this.#kept.push(s);
        if (onNotification) onNotification(s, now());
        return;
      }
      if (s.startsWith('{"id":')) {
        const f = JSON.parse(s);
        this.#pending.get(f.id)?.(f);
        this.#pending.delete(f.id);
        return;
      }
      if (onNotification) onNotification(s, now());
      if (keep && s.startsWith(ITEM_COMPLETED_PREFIX)) this.#kept.push(s);
      if (s.startsWith(COMPLETED_PREFIX)) {
        if (keep) this.#kept.push(s);
        const at = now();
        const f = JSON.parse(s);
        const status = String(f.params.turn.status);
        this.turnStatuses[status] = (this.turnStatuses[status] ?? 0) + 1;
        if (status !== "completed" && this.turnErrors.length < 5) this.turnErrors.push(JSON.stringify(f.params.turn.error ?? null));
        const w = this.#turnWaiters.get(f.params.turn.id);
        if (w) w(at);
        else this.#early.set(f.params.turn.id, at);
        this.#turnWaiters.delete(f.params.turn.id);
      }
    });
  }

  static async connect(url: string, token: string, opts: BenchClientOptions = {}): Promise<BenchClient> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    const c = new BenchClient(ws, opts);
    await c.call("initialize", { clientInfo: { name: "bench", version: "1" }, capabilities: { optOutNotificationMethods: [] } });
    ws.send(JSON.stringify({ method: "initialized" }));
    return c;
  }

  /** Sends a request now; the promise settles with its result. */
  call(method: string, params: unknown): Promise<any> {
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (f) => (f.error ? reject(new Error(`${method}: ${f.error.message}`)) : resolve(f.result)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The kept frames parsed, in arrival order; they are forgotten here. */
  auditFrames(): Array<Record<string, any>> {
    const out = this.#kept.map((s) => JSON.parse(s) as Record<string, any>);
    this.#kept = [];
    return out;
  }

  /** Starts a turn; resolves once started, with its id and a promise of its turn/completed arrival time. */
  async turn(threadId: string, text: string): Promise<{ turnId: string; sentAt: number; completedAt: Promise<number> }> {
    const sentAt = now();
    let resolveDone!: (at: number) => void;
    const completedAt = new Promise<number>((r) => (resolveDone = r));
    const r = await this.call("turn/start", { threadId, input: [{ type: "text", text }] });
    const early = this.#early.get(r.turn.id);
    if (early !== undefined) {
      this.#early.delete(r.turn.id);
      resolveDone(early);
    } else this.#turnWaiters.set(r.turn.id, resolveDone);
    return { turnId: r.turn.id as string, sentAt, completedAt };
  }

  /** Stops reading the socket (the TCP socket is paused: the kernel buffers fill and the server sees a stalled reader). */
  pause(): void {
    this.ws.pause();
  }

  /** Reads the socket again. */
  resume(): void {
    this.ws.resume();
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

/** Nearest-rank percentile (as bench/run.ts), in the unit of `xs`, two decimals. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2));
}

export function summary(xs: readonly number[]): { p50: number; p90: number; p99: number; min: number; max: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: pct(s, 50),
    p90: pct(s, 90),
    p99: pct(s, 99),
    min: Number(s[0]!.toFixed(2)),
    max: Number(s.at(-1)!.toFixed(2)),
    mean: Number((s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)),
  };
}
