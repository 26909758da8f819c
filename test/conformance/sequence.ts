import { TestClient } from "../support/ws-client.ts";

type Json = Record<string, any>;

/**
 * One connection of a conformance scenario. Besides the frames the server sent (kept by the test client)
 * it notes where each client message went out, so the whole exchange reads back as one sequence.
 */
export class Conn {
  private readonly sends: Array<{ at: number; entry: string }> = [];
  private readonly methodsById = new Map<string, string>();
  private nextId = 1;

  private constructor(readonly client: TestClient) {}

  static async open(url: string, opts: { token?: string | null; validate: boolean }): Promise<Conn> {
    const c = new Conn(await TestClient.connect(url, { token: opts.token ?? null, validate: opts.validate }));
    await c.call("initialize", { clientInfo: { name: "conformance", title: "Conformance", version: "1.0.0" }, capabilities: { experimentalApi: false } });
    c.note("initialized");
    c.client.notify("initialized");
    return c;
  }

  private note(entry: string): void {
    this.sends.push({ at: this.client.frames.length, entry: `send ${entry}` });
  }

  /** Sends a request; resolves with the response frame (result or error). */
  request(method: string, params?: unknown): Promise<Json> {
    const id = this.nextId++;
    this.methodsById.set(JSON.stringify(id), method);
    this.note(method);
    return this.client.request(method, params, id);
  }

  /** Sends a request and resolves with its result; rejects on an error. */
  async call(method: string, params?: unknown): Promise<Json> {
    const r = await this.request(method, params);
    if (r.error) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
    return r.result as Json;
  }

  /** Sends a frame that is not a valid request (bad input). */
  raw(text: string, label: string): void {
    this.note(label);
    void this.client.sendRaw(text);
  }

  /** Answers a server request. */
  answer(request: Json, result: unknown): void {
    this.note(`answer ${request.method as string}`);
    this.client.respond(request.id, result);
  }

  waitFor(method: string, from = 0, pred: (f: Json) => boolean = () => true): Promise<Json> {
    return this.client.waitFor((f) => f.method === method && pred(f), { from, timeoutMs: 15_000 });
  }

  get mark(): number {
    return this.client.frames.length;
  }

  /**
   * How many `remoteControl/status/changed` the connection received. The sequences leave it out: both
   * servers send it once after the handshake, at a moment no client request orders.
   */
  remoteControlCount(): number {
    return this.client.frames.filter((f) => f.method === "remoteControl/status/changed").length;
  }

  /**
   * The exchange so far, in order: `send m`, `result m`, `error m`, `note m` (notification), `ask m`
   * (server request), with the status a frame reports (`note thread/status/changed:idle`).
   */
  sequence(): string[] {
    const out: string[] = [];
    const frames = this.client.frames;
    let s = 0;
    for (let i = 0; i <= frames.length; i++) {
      while (s < this.sends.length && this.sends[s]!.at <= i) out.push(this.sends[s++]!.entry);
      const f = frames[i];
      if (!f || isModelMetadataWarning(f) || f.method === "remoteControl/status/changed") continue;
      if (typeof f.method === "string") out.push(`${"id" in f ? "ask" : "note"} ${f.method}${detail(f.params)}`);
      else out.push(`${f.error ? "error" : "result"} ${this.methodsById.get(JSON.stringify(f.id)) ?? "?"}${f.error ? "" : detail(f.result)}`);
    }
    return normalise(out);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * The state a frame reports, where the sequence alone would hide a difference: a thread's status (in
 * `thread/status/changed` and in the thread a response carries) and a completed turn's status.
 */
function detail(p: Json | undefined): string {
  const status = p?.status?.type ?? p?.thread?.status?.type ?? p?.turn?.status;
  return typeof status === "string" && (p?.status !== undefined || p?.thread !== undefined || p?.turn?.completedAt != null) ? `:${status}` : "";
}

/** Codex's warning that the mock model of the recordings has no metadata: a property of the test model. */
function isModelMetadataWarning(f: Json): boolean {
  return f.method === "warning" && typeof f.params?.message === "string" && f.params.message.startsWith("Model metadata for");
}

/**
 * What the comparison ignores, on both sides: how many deltas a stream was cut into (runs of one delta
 * method are one entry: Threadmesh may coalesce deltas, the model decides how many there are), also
 * across a request sent while the stream runs.
 */
export function normalise(seq: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of seq) {
    // A delta in flight while a request (interrupt, steer) travels is a race on either server.
    if (/^note .*[dD]elta$/.test(e) && (out.at(-1) === e || (out.at(-1)?.startsWith("send ") && out.at(-2) === e))) continue;
    out.push(e);
  }
  return out;
}
