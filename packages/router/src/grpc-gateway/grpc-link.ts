import { constants as http2 } from "node:http2";
import type * as grpc from "@grpc/grpc-js";
import type { Flushable, FlushScheduler } from "../flush-scheduler.ts";
import type { OutboundBudget } from "../outbound-budget.ts";
import type { ConnectionHandler, TransportLink } from "../transport.ts";
import { closeStatus } from "./close-status.ts";

/** Close code reported for a call that ended without a closing handshake (client cancelled, stream broken). */
const ABNORMAL_CLOSURE = 1006;
/** Close code reported when the client half-closed its side. */
const NORMAL_CLOSURE = 1000;

export type GatewayCall = grpc.ServerDuplexStream<Buffer, string | Uint8Array>;

/**
 * Adapts one gRPC `Connect` call to {@link TransportLink}, as `WsLink` adapts a WebSocket: frames queued
 * in a tick are written together and in order, each as one `Frame` message; the bytes written but not
 * yet taken by the HTTP/2 stream (flow control) are counted in the router's {@link OutboundBudget} and
 * make the link unwritable until the call drains. Closing ends the call with the status that matches
 * the close code ({@link closeStatus}).
 */
export class GrpcLink implements TransportLink, Flushable {
  readonly #call: GatewayCall;
  readonly #scheduler: FlushScheduler;
  readonly #budget: OutboundBudget;
  #queue: Array<string | Uint8Array> = [];
  #queuedBytes = 0;
  /** Bytes handed to the call whose write has not completed; counted in the budget. */
  #pending = 0;
  #scheduled = false;
  #closing = false;
  #closed = false;
  #drainWaiter: (() => void) | undefined;
  #handler: ConnectionHandler | undefined;
  #onClosed: (() => void) | undefined;
  /** Close code the server chose; reported when the call is gone. */
  #closeCode = ABNORMAL_CLOSURE;

  constructor(call: GatewayCall, scheduler: FlushScheduler, budget: OutboundBudget) {
    this.#call = call;
    this.#scheduler = scheduler;
    this.#budget = budget;
    call.on("drain", () => {
      const w = this.#drainWaiter;
      if (w !== undefined && !this.#closing) {
        this.#drainWaiter = undefined;
        w();
      }
    });
  }

  /** Wires the call's events to `handler`; frames over `maxFrameBytes` are refused with 1009. */
  attach(handler: ConnectionHandler, maxFrameBytes: number, onClosed: () => void): void {
    this.#handler = handler;
    this.#onClosed = onClosed;
    const call = this.#call;
    call.on("data", (data: Buffer) => {
      if (this.#closing) return;
      if (data.length > maxFrameBytes) {
        handler.oversized(maxFrameBytes);
        this.close(1009, "frame too large");
        return;
      }
      handler.message(data, false);
    });
    // The client half-closed: it sends nothing more, so the connection ends normally.
    call.on("end", () => this.close(NORMAL_CLOSURE, ""));
    // Emitted once the call is over for any reason: status sent, client cancelled, stream reset.
    call.on("cancelled", () => this.#gone());
    call.on("close", () => this.#gone());
  }

  get bufferedBytes(): number {
    return this.#queuedBytes + this.#pending;
  }

  get socketBytes(): number {
    return this.#pending;
  }

  whenWritable(fn: () => void): void {
    if (this.#closing) return;
    if (this.#call.writableNeedDrain) this.#drainWaiter = fn;
    else setImmediate(() => this.#closing || fn());
  }

  send(frame: string | Uint8Array): void {
    if (this.#closing) return;
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#scheduler.schedule(this);
    }
  }

  flush(): number {
    this.#scheduled = false;
    const q = this.#queue;
    const n = q.length;
    if (n === 0) return 0;
    this.#queuedBytes = 0;
    if (this.#closed || this.#call.writableEnded) {
      q.length = 0;
      return 0;
    }
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const frame = q[i] as string | Uint8Array;
      const size = frame.length;
      bytes += size;
      this.#call.write(frame, () => this.#written(size));
    }
    q.length = 0;
    this.#pending += bytes;
    this.#budget.add(bytes);
    return n;
  }

  close(code: number, reason: string, dropAfterMs?: number): void {
    if (this.#closing) return;
    this.flush();
    this.#closing = true;
    this.#closeCode = code;
    this.#drainWaiter = undefined;
    const s = closeStatus(code, reason);
    if (s.code === 0) this.#call.end(s.metadata);
    else this.#call.emit("error", s);
    if (dropAfterMs !== undefined) setTimeout(() => this.terminate(), dropAfterMs).unref();
  }

  /** Drops the call without waiting for what it still has to write (a client that stopped reading). */
  terminate(): void {
    this.#closing = true;
    if (this.#closed) return;
    resetStream(this.#call);
    this.#gone();
  }

  #written(size: number): void {
    if (this.#closed) return;
    this.#pending -= size;
    this.#budget.add(-size);
  }

  /** The call is over: report it once, with the code the server chose or 1006. */
  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#drainWaiter = undefined;
    this.#budget.add(-this.#pending);
    this.#pending = 0;
    this.#onClosed?.();
    this.#handler?.closed(this.#closeCode);
  }
}

/**
 * Resets the call's HTTP/2 stream. grpc-js offers no public way for a server to abandon a call whose
 * client stopped reading; its base call keeps the stream as `stream` (behind any interceptors as
 * `nextCall`). Without it (a future grpc-js) the call ends when the connection does.
 */
function resetStream(call: GatewayCall): void {
  let inner = (call as unknown as { call?: unknown }).call as { stream?: { close?: (code: number) => void; destroyed?: boolean }; nextCall?: unknown } | undefined;
  for (let i = 0; i < 8 && inner !== undefined; i++) {
    const stream = inner.stream;
    if (stream && typeof stream.close === "function") {
      if (!stream.destroyed) stream.close(http2.NGHTTP2_CANCEL);
      return;
    }
    inner = inner.nextCall as typeof inner;
  }
}
