import {
  ENVELOPE_VERSION,
  MeshMethod,
  encodeError,
  encodeResult,
  isRpcErrorShape,
  toRpcError,
  type CommandEnvelope,
  type ConnectionClosedParams,
  type ReplyEnvelope,
  type RespondServerRequestParams,
  type RpcErrorShape,
  type TraceField,
} from "@threadmesh/protocol";
import {
  SpanAttr,
  SpanKind,
  SpanStatusCode,
  context,
  extractTraceContext,
  recordSpanError,
  trace,
  type Context,
  type Logger,
  type Span,
  type Tracer,
} from "@threadmesh/telemetry";
import type { EventLog, LoggedEvent } from "@threadmesh/mesh";
import type { Connection } from "./connection.ts";
import { planReplay, type ReplayPlan } from "./replay.ts";
import type { RouterMetrics } from "./router-metrics.ts";
import type { FanOut, Joiner } from "./fan-out.ts";
import { HostTimeoutError, type HostClient, type HostTarget } from "./host-client.ts";
import type { ServerRequestEntry } from "./server-request-map.ts";

export type ForwardOutcome = "ok" | "error" | "timeout";

/** A client request bound for a session host, validated. */
export interface ForwardedRequest {
  readonly idText: string;
  readonly method: string;
  readonly params: unknown;
  readonly trace: TraceField | null;
  readonly target: HostTarget;
  /** Canonical thread id of the params, when there is one. */
  readonly threadId: string | undefined;
}

const BAD_REPLY: RpcErrorShape = { code: -32603, message: "invalid reply from session host" };
/** A resume whose replay read the closing bus cut off: retryable, as a draining router's refusals. */
const REPLAY_INTERRUPTED: RpcErrorShape = {
  code: -32001,
  message: "Server is draining; retry after reconnecting",
  data: { reason: "serverShuttingDown", retryAfterMs: 500 },
};


/**
 * The router side of the host contract (`envelopes.ts`): builds command envelopes, writes reply
 * envelopes to the connection in contract order (before → response → after → pending server requests
 * → held live events) and applies the subscription changes they carry.
 */
export class HostForwarder {
  readonly #routerId: string;
  readonly #hosts: HostClient;
  readonly #fanout: FanOut;
  readonly #logger: Logger;
  readonly #tracer: Tracer;
  readonly #eventLog: EventLog | undefined;
  readonly #metrics: RouterMetrics;

  readonly #accepting: () => boolean;
  constructor(opts: {
    routerId: string;
    hosts: HostClient;
    fanout: FanOut;
    logger: Logger;
    tracer: Tracer;
    eventLog?: EventLog | undefined;
    metrics: RouterMetrics;
    /** False while the router drains; unset: always true. */
    accepting?: () => boolean;
  }) {
    this.#accepting = opts.accepting ?? (() => true);
    this.#eventLog = opts.eventLog;
    this.#metrics = opts.metrics;
    this.#routerId = opts.routerId;
    this.#hosts = opts.hosts;
    this.#fanout = opts.fanout;
    this.#logger = opts.logger;
    this.#tracer = opts.tracer;
  }

  /**
   * Sends a request to its host and writes the reply, under a server span whose parent is the request's
   * `trace` (else the upgrade's `traceparent`). Never rejects.
   */
  async forward(conn: Connection, req: ForwardedRequest): Promise<ForwardOutcome> {
    const parent = extractTraceContext(req.trace, conn.info.trace);
    const span = this.#tracer.startSpan(`threadmesh.request ${req.method}`, { kind: SpanKind.SERVER }, parent);
    // Attributes only when recorded: with tracing off this path stays allocation-light.
    if (span.isRecording()) {
      span.setAttributes({ [SpanAttr.RpcSystem]: "jsonrpc", [SpanAttr.Method]: req.method, [SpanAttr.Tenant]: conn.tenant, [SpanAttr.ConnectionId]: conn.id });
      if (req.threadId !== undefined) span.setAttribute(SpanAttr.ThreadId, req.threadId);
    }
    const outcome = await context.with(trace.setSpan(parent, span), () => this.#forward(conn, req, span));
    // Failures set the span's status where they happen, with their own message.
    span.setAttribute(SpanAttr.Outcome, outcome);
    span.end();
    return outcome;
  }

  async #forward(conn: Connection, req: ForwardedRequest, span: Span): Promise<ForwardOutcome> {
    let joiner: Joiner | undefined;
    let early: Promise<LoggedEvent[]> | undefined;
    let reply: ReplyEnvelope;
    try {
      // Resume names its thread up front: listen before asking, so no event falls between the
      // snapshot in the response and the live feed. Start and fork learn the id from the reply.
      if (req.method === "thread/resume" && req.threadId !== undefined && !conn.memberships.has(req.threadId)) {
        joiner = this.#fanout.beginJoin(conn, req.threadId);
        // The gap is read while the owner takes its snapshot; the plan checks the read reaches it.
        const afterSeq = afterSeqOf(req);
        if (afterSeq !== undefined && this.#eventLog !== undefined) {
          early = this.#eventLog.read(conn.tenant, req.threadId, afterSeq);
          // Handled where it is used; a failed early read only means reading again.
          early.catch(() => undefined);
        }
      }
      const env: CommandEnvelope = {
        v: ENVELOPE_VERSION,
        tenant: conn.tenant,
        method: req.method,
        params: req.params,
        origin: conn.origin(this.#routerId),
        trace: req.trace ?? conn.info.trace,
      };
      reply = await this.#hosts.request(env, req.target);
    } catch (err) {
      if (joiner !== undefined) this.#fanout.abortJoin(joiner);
      recordSpanError(span, err);
      conn.sendControl(encodeError(req.idText, toRpcError(err).toShape()));
      return err instanceof HostTimeoutError ? "timeout" : "error";
    }
    // start and fork learn their thread from the reply.
    if (reply.ok && typeof reply.subscribe === "string") span.setAttribute(SpanAttr.ThreadId, reply.subscribe);
    else if (!reply.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: isRpcErrorShape(reply.error) ? reply.error.message : BAD_REPLY.message });
    let replay: ReplayPlan | undefined;
    const afterSeq = afterSeqOf(req);
    if (joiner !== undefined && reply.ok && typeof afterSeq === "number" && typeof reply.lastSeq === "number") {
      let readFailure: unknown;
      replay = await planReplay(this.#eventLog, conn.tenant, joiner.threadId, afterSeq, reply.lastSeq, early).catch((err: unknown) => {
        readFailure = err;
        this.#logger.warn({ err, threadId: joiner?.threadId }, "event replay read failed");
        return { recovered: false, events: [], coveredThrough: reply.ok ? (reply.lastSeq ?? 0) : 0 };
      });
      if (readFailure !== undefined && !this.#accepting()) {
        // The router is going away (its connections are closing): the same resume on the client's next
        // connection replays the gap, where answering now could only tell it to rebuild from the snapshot.
        this.#fanout.abortJoin(joiner);
        conn.sendControl(encodeError(req.idText, REPLAY_INTERRUPTED));
        return "error";
      }
      this.#metrics.mesh.replay.inc({ outcome: replay.recovered ? "recovered" : "unrecovered" });
    } else if (req.method === "thread/resume" && joiner === undefined && req.threadId !== undefined && reply.ok && typeof afterSeq === "number" && typeof reply.lastSeq === "number") {
      // A follower asking again: it is missing events its live feed lost; they reach every follower.
      const recovered = await this.#fanout.fillThrough(conn.tenant, req.threadId, afterSeq, reply.lastSeq);
      this.#metrics.mesh.replay.inc({ outcome: recovered ? "recovered" : "unrecovered" });
      replay = { recovered, events: [], coveredThrough: reply.lastSeq };
    }
    try {
      return this.#applyReply(conn, req, reply, joiner, replay);
    } catch (err) {
      recordSpanError(span, err);
      // The response may be out already; the connection cannot be left half-subscribed.
      this.#logger.error({ err, connId: conn.id, method: req.method }, "applying a host reply failed");
      if (joiner !== undefined) this.#fanout.abortJoin(joiner);
      conn.close(1011, "internal error");
      return "error";
    }
  }

  /**
   * Relays a client's answer to a server request to the thread's owner, under a server span
   * (`threadmesh.answer <method>`) whose parent is the upgrade's `traceparent`. The first answer wins there.
   */
  answer(conn: Connection, entry: ServerRequestEntry, answer: { result: unknown } | { error: RpcErrorShape }): void {
    entry.answered = true;
    const params: RespondServerRequestParams = { threadId: entry.threadId, requestKey: entry.requestKey, ...answer };
    const env = this.#envelope(conn, MeshMethod.RespondServerRequest, params);
    const { span, ctx } = this.#noticeSpan(`threadmesh.answer ${entry.method}`, SpanKind.SERVER, conn, entry.threadId);
    if (span.isRecording()) span.setAttribute(SpanAttr.Method, entry.method);
    const sent = context.with(ctx, () => this.#hosts.request(env, { route: "thread", threadId: entry.threadId }));
    sent.then(
      (reply) => {
        if (!reply.ok) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: isRpcErrorShape(reply.error) ? reply.error.message : BAD_REPLY.message });
          this.#logger.debug({ connId: conn.id, threadId: entry.threadId, error: reply.error }, "server request answer refused");
        }
        span.end();
      },
      (err: unknown) => {
        // Not delivered: let this client (or another subscriber) answer again.
        entry.answered = false;
        recordSpanError(span, err);
        span.end();
        this.#logger.warn({ err, connId: conn.id, threadId: entry.threadId }, "server request answer not delivered");
      },
    );
  }

  /**
   * Tells the thread's owner that a subscribed connection went away, under a span
   * (`threadmesh.connection.closed`) whose parent is the upgrade's `traceparent`. Fire-and-forget.
   */
  connectionClosed(conn: Connection, threadId: string): void {
    const params: ConnectionClosedParams = { threadId };
    const env = this.#envelope(conn, MeshMethod.ConnectionClosed, params);
    const { span, ctx } = this.#noticeSpan("threadmesh.connection.closed", SpanKind.INTERNAL, conn, threadId);
    const sent = context.with(ctx, () => this.#hosts.request(env, { route: "thread", threadId, fallback: false }));
    sent.then(
      () => span.end(),
      (err: unknown) => {
        recordSpanError(span, err);
        span.end();
        this.#logger.debug({ err, connId: conn.id, threadId }, "connection-closed notice not delivered");
      },
    );
  }

  /** The span of a message the router passes on outside a client request, and the context to send it in. */
  #noticeSpan(name: string, kind: SpanKind, conn: Connection, threadId: string): { span: Span; ctx: Context } {
    const parent = extractTraceContext(conn.info.trace);
    const span = this.#tracer.startSpan(name, { kind }, parent);
    if (span.isRecording()) {
      span.setAttributes({ [SpanAttr.Tenant]: conn.tenant, [SpanAttr.ConnectionId]: conn.id, [SpanAttr.ThreadId]: threadId });
    }
    return { span, ctx: trace.setSpan(parent, span) };
  }

  #envelope(conn: Connection, method: string, params: unknown): CommandEnvelope {
    return { v: ENVELOPE_VERSION, tenant: conn.tenant, method, params, origin: conn.origin(this.#routerId) };
  }

  #applyReply(conn: Connection, req: ForwardedRequest, reply: ReplyEnvelope, joiner: Joiner | undefined, replay?: ReplayPlan): ForwardOutcome {
    const subscribe = reply.ok && typeof reply.subscribe === "string" ? reply.subscribe : undefined;
    if (!conn.open) {
      // The client left while the host was subscribing it: release that subscription on the host too.
      if (joiner !== undefined) this.#fanout.abortJoin(joiner);
      if (subscribe !== undefined) this.connectionClosed(conn, subscribe);
      return reply.ok ? "ok" : "error";
    }
    if (Array.isArray(reply.before)) for (const f of reply.before) conn.sendOwnNotification(f);
    if (!reply.ok) {
      if (joiner !== undefined) this.#fanout.abortJoin(joiner);
      conn.sendControl(encodeError(req.idText, isRpcErrorShape(reply.error) ? reply.error : BAD_REPLY));
      return "error";
    }
    if (joiner !== undefined && replay === undefined && typeof reply.lastSeq === "number") this.#fanout.releaseEarlyBroadcasts(joiner, reply.lastSeq);
    const result = replay === undefined ? reply.result : withReplay(reply.result, replay);
    // `thread/search/stream` (Codex 0.171): the matches arrive as one partial, named by the request id, then the response.
    if (req.method === "thread/search/stream") {
      const data = (result as { data?: unknown[] } | null)?.data;
      if (Array.isArray(data) && data.length > 0) {
        conn.sendOwnNotification(`{"method":"thread/search/partial","params":{"requestId":${req.idText},"data":${JSON.stringify(data)}},"emittedAtMs":${Date.now()}}`);
      }
    }
    conn.sendControl(encodeResult(req.idText, result));
    if (Array.isArray(reply.after)) for (const f of reply.after) conn.sendOwnNotification(f);
    if (typeof reply.unsubscribe === "string") this.#fanout.detach(conn, reply.unsubscribe);
    if (subscribe !== undefined && joiner?.threadId !== subscribe) this.#fanout.attach(conn, subscribe);
    const pendingThread = subscribe ?? req.threadId;
    if (Array.isArray(reply.pendingRequests) && pendingThread !== undefined) {
      for (const p of reply.pendingRequests) {
        conn.sendServerRequest(pendingThread, p.requestKey, p.method, JSON.stringify(p.params ?? null));
      }
    }
    if (joiner !== undefined) {
      if (joiner.threadId === subscribe) {
        const afterSeq = (req.params as { afterSeq?: number }).afterSeq ?? 0;
        this.#fanout.completeJoin(joiner, replay && { events: replay.events, afterSeq, coveredThrough: replay.coveredThrough });
      }
      else this.#fanout.abortJoin(joiner);
    }
    return "ok";
  }
}

/** The resume result with `replay: {recovered, events}` (an extension field Codex clients ignore). */
function withReplay(result: unknown, plan: ReplayPlan): unknown {
  if (typeof result !== "object" || result === null) return result;
  return { ...result, replay: { recovered: plan.recovered, events: plan.events.length } };
}

/** The `afterSeq` of a resume, when it has one. */
function afterSeqOf(req: ForwardedRequest): number | undefined {
  const afterSeq = (req.params as { afterSeq?: unknown } | null)?.afterSeq;
  return typeof afterSeq === "number" ? afterSeq : undefined;
}
