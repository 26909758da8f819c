import { BusError, type Bus, type BusMessage } from "@threadmesh/mesh";
import {
  ENVELOPE_VERSION,
  EventHeader,
  MeshMethod,
  TEXT_DECODER,
  splitEventBatch,
  decodeEnvelope,
  encodeEnvelope,
  placeSubject,
  threadCommandSubject,
  type CommandEnvelope,
  type Origin,
  type RequestDeadline,
  type ReplyEnvelope,
  type RpcErrorShape,
} from "@threadmesh/protocol";
import { codexSchema } from "../../../test/support/codex-schema.ts";

type Json = Record<string, any>;

/** One thing the test client saw, in arrival order. */
export type Frame =
  | { kind: "n"; method: string; params: Json; threadId: string | undefined; seq: number; epoch: number; drop: boolean; frame: Json }
  | { kind: "r"; method: string; params: Json; threadId: string | undefined; requestKey: string; seq: number }
  | { kind: "x"; method: string; threadId: string | undefined; requestKey: string; seq: number }
  | { kind: "reply"; method: string; threadId: string | undefined; reply: ReplyEnvelope };

const PLACE_METHODS = new Set(["thread/start", "thread/fork", "thread/list", "thread/loaded/list"]);
const WAIT_TIMEOUT_MS = 15_000;

/**
 * Talks to session hosts over the bus as a router would: commands as envelopes (thread commands to the
 * owner's subject, falling back to placement), events from the tenant's event and broadcast subjects.
 * Every event, requester-only notification and result is checked against the official Codex schema.
 */
export class HostTestClient {
  readonly frames: Frame[] = [];
  readonly schemaViolations: string[] = [];
  readonly #bus: Bus;
  readonly #tenant: string;
  readonly #origin: Origin;
  readonly #waiters = new Set<() => void>();
  readonly #subs: Array<{ unsubscribe(): void }>;

  constructor(bus: Bus, tenant: string, origin: Partial<Origin> = {}) {
    this.#bus = bus;
    this.#tenant = tenant;
    this.#origin = { routerId: "router-1", connId: "conn-1", experimentalApi: true, clientName: "host-test", clientVersion: "0.0.1", ...origin };
    const onEvent = (msg: BusMessage) => this.#onEvent(msg);
    this.#subs = [bus.subscribe(`tm.v1.${tenant}.ev.>`, onEvent)];
  }

  get origin(): Origin {
    return this.#origin;
  }

  /** Sends a command (with `deadline`, as a router stamps it) and returns the raw reply (recorded in `frames`). */
  async send(method: string, params: unknown, origin: Partial<Origin> = {}, deadline?: RequestDeadline): Promise<ReplyEnvelope> {
    const env: CommandEnvelope = { v: ENVELOPE_VERSION, tenant: this.#tenant, method, params, origin: { ...this.#origin, ...origin } };
    if (deadline !== undefined) env.deadline = deadline;
    const data = encodeEnvelope(env);
    const threadId = (params as { threadId?: string } | undefined)?.threadId;
    let msg: BusMessage;
    if (PLACE_METHODS.has(method) || threadId === undefined) {
      msg = await this.#bus.request(placeSubject(this.#tenant), data, { timeoutMs: WAIT_TIMEOUT_MS });
    } else {
      try {
        msg = await this.#bus.request(threadCommandSubject(this.#tenant, threadId), data, { timeoutMs: WAIT_TIMEOUT_MS });
      } catch (err) {
        if (!(err instanceof BusError) || err.kind !== "noResponders") throw err;
        msg = await this.#bus.request(placeSubject(this.#tenant), data, { timeoutMs: WAIT_TIMEOUT_MS });
      }
    }
    const reply = decodeEnvelope<ReplyEnvelope>(msg.data);
    const replyThread = threadId ?? (reply.ok ? ((reply.result as Json | undefined)?.thread?.id as string | undefined) : undefined);
    this.#push({ kind: "reply", method, threadId: replyThread, reply });
    this.#checkReply(method, reply);
    return reply;
  }

  /** Sends a command and returns its result; rejects with the error shape on failure. */
  async call(method: string, params: unknown, origin: Partial<Origin> = {}, deadline?: RequestDeadline): Promise<any> {
    const reply = await this.send(method, params, origin, deadline);
    if (!reply.ok) throw Object.assign(new Error(`${method}: ${reply.error.message}`), { rpc: reply.error });
    return reply.result;
  }

  /** Sends a command that must fail and returns its error. */
  async error(method: string, params: unknown, origin: Partial<Origin> = {}, deadline?: RequestDeadline): Promise<RpcErrorShape> {
    const reply = await this.send(method, params, origin, deadline);
    if (reply.ok) throw new Error(`${method} succeeded: ${JSON.stringify(reply.result)}`);
    return reply.error;
  }

  /** Answers a server request as a connection would (through the owner's command subject). */
  respond(threadId: string, requestKey: string, answer: { result: unknown } | { error: RpcErrorShape }, origin: Partial<Origin> = {}): Promise<ReplyEnvelope> {
    return this.send(MeshMethod.RespondServerRequest, { threadId, requestKey, ...answer }, origin);
  }

  /** Resolves with the first frame at or after `from` that matches. */
  waitFor(pred: (f: Frame) => boolean, from = 0, what = "frame"): Promise<Frame> {
    const found = this.frames.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.slice(from).find(pred);
        if (!f) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(f);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.trace(undefined, from))}`));
      }, WAIT_TIMEOUT_MS);
      this.#waiters.add(check);
    });
  }

  /** Waits for a notification (or server request) of `method` on `threadId`. */
  waitForMethod(method: string, threadId: string, from = 0, extra: (f: Frame) => boolean = () => true): Promise<Frame> {
    return this.waitFor((f) => f.kind !== "reply" && f.method === method && f.threadId === threadId && extra(f), from, `${method} on ${threadId}`);
  }

  /** Waits for the `turn/completed` of a turn. */
  waitTurnCompleted(threadId: string, turnId: string, from = 0): Promise<Frame & { kind: "n" }> {
    return this.waitForMethod("turn/completed", threadId, from, (f) => f.kind === "n" && f.params.turn.id === turnId) as Promise<Frame & { kind: "n" }>;
  }

  /**
   * The frames of a thread from `from` (mesh command replies left out) as compact labels: `reply:turn/start`, `request:<method>`,
   * `resolved:<method>`, `thread/status/changed:active[waitingOnApproval]`, `item/started:commandExecution`,
   * `item/completed:commandExecution:declined`, `turn/completed:interrupted`; runs of one delta method
   * collapse into `<method>×N`.
   */
  trace(threadId: string | undefined, from = 0): string[] {
    const out: string[] = [];
    for (const f of this.frames.slice(from)) {
      if (threadId !== undefined && f.threadId !== threadId) continue;
      if (f.kind === "reply" && f.method.startsWith("mesh/")) continue;
      const label = labelOf(f);
      const last = out[out.length - 1];
      if (label.endsWith("Delta") || label.endsWith("/delta")) {
        const m = last?.match(/^(.*)×(\d+)$/);
        if (m && m[1] === label) {
          out[out.length - 1] = `${label}×${Number(m[2]) + 1}`;
          continue;
        }
        out.push(`${label}×1`);
        continue;
      }
      out.push(label);
    }
    return out;
  }

  /** Notifications (kind `n`) of a thread from `from`. */
  notifications(threadId: string, from = 0): Array<Frame & { kind: "n" }> {
    return this.frames.slice(from).filter((f): f is Frame & { kind: "n" } => f.kind === "n" && f.threadId === threadId);
  }

  close(): void {
    for (const s of this.#subs) s.unsubscribe();
  }

  #onEvent(msg: BusMessage): void {
    const h = msg.headers ?? {};
    const kind = h[EventHeader.Kind];
    const method = h[EventHeader.Method] ?? "";
    const threadId = h[EventHeader.ThreadId];
    const seq = Number(h[EventHeader.Seq]);
    if (kind === "n" || kind === "b") {
      const parts = kind === "b" ? splitEventBatch(msg.data) : [msg.data];
      const first = kind === "b" ? Number(h[EventHeader.FirstSeq]) : seq;
      parts.forEach((part, i) => {
        const frame = JSON.parse(TEXT_DECODER.decode(part)) as Json;
        const v = codexSchema().check(frame);
        if (v) this.schemaViolations.push(v);
        if (frame.seq !== first + i) this.schemaViolations.push(`${frame.method}: frame seq ${frame.seq} where ${first + i} was due`);
        const m = kind === "b" ? String(frame.method) : method;
        this.#push({ kind: "n", method: m, params: frame.params, threadId, seq: first + i, epoch: Number(h[EventHeader.Epoch]), drop: h[EventHeader.DropSubscriptions] === "1", frame });
      });
    } else if (kind === "r") {
      const params = JSON.parse(TEXT_DECODER.decode(msg.data)) as Json;
      const v = codexSchema().check({ id: 0, method, params });
      if (v) this.schemaViolations.push(v);
      this.#push({ kind: "r", method, params, threadId, requestKey: h[EventHeader.RequestKey] ?? "", seq });
    } else if (kind === "x") {
      this.#push({ kind: "x", method, threadId, requestKey: h[EventHeader.RequestKey] ?? "", seq });
    }
  }

  #checkReply(method: string, reply: ReplyEnvelope): void {
    const extras = [...(reply.before ?? []), ...(reply.ok ? (reply.after ?? []) : [])];
    for (const text of extras) {
      const v = codexSchema().check(JSON.parse(text) as Json);
      if (v) this.schemaViolations.push(v);
    }
    if (reply.ok && !method.startsWith("mesh/")) {
      const v = codexSchema().check({ id: 1, result: reply.result }, method);
      if (v) this.schemaViolations.push(v);
    }
  }

  #push(f: Frame): void {
    this.frames.push(f);
    for (const w of [...this.#waiters]) w();
  }
}

function labelOf(f: Frame): string {
  switch (f.kind) {
    case "reply":
      return `reply:${f.method}${f.reply.ok ? "" : ":error"}`;
    case "r":
      return `request:${f.method}`;
    case "x":
      return `resolved:${f.method}`;
    case "n": {
      const p = f.params;
      if (f.method === "thread/status/changed") {
        const s = p.status;
        return `${f.method}:${s.type}${s.type === "active" ? `[${s.activeFlags.join(",")}]` : ""}`;
      }
      if (f.method === "item/started") return `${f.method}:${p.item.type}`;
      if (f.method === "item/completed") return `${f.method}:${p.item.type}${p.item.status ? `:${p.item.status}` : ""}`;
      if (f.method === "turn/completed") return `${f.method}:${p.turn.status}`;
      return f.method;
    }
  }
}
