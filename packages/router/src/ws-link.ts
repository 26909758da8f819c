import type { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { WebSocket } from "ws";
import type { Flushable, FlushScheduler } from "./flush-scheduler.ts";
import type { OutboundBudget } from "./outbound-budget.ts";
import type { ConnectionHandler, TransportLink } from "./transport.ts";
import { MAX_BATCHED_FRAME_BYTES, encodeTextFrames } from "./ws-frames.ts";

const TEXT_FRAME = { binary: false } as const;
/** Close reasons are limited to 123 bytes by RFC 6455. */
const MAX_CLOSE_REASON_BYTES = 123;
const OVERSIZED_CODE = "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";

/**
 * Adapts one `ws` socket to {@link TransportLink}: frames queued in a tick are written in one corked
 * batch (one buffer of frames, one `write`), text frames only, and the connection's events go to one {@link ConnectionHandler}.
 * What the socket buffers is counted in the router's {@link OutboundBudget}, measured after each batch
 * and each drain.
 */
export class WsLink implements TransportLink, Flushable {
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  readonly #scheduler: FlushScheduler;
  readonly #budget: OutboundBudget;
  /** Socket bytes last counted in the budget. */
  #counted = 0;
  #drainWaiter: (() => void) | undefined;
  #queue: Array<string | Uint8Array> = [];
  #queuedBytes = 0;
  #scheduled = false;
  #closing = false;
  /** Cleared at each ping; set by a pong or any inbound message. */
  #alive = true;

  constructor(ws: WebSocket, scheduler: FlushScheduler, budget: OutboundBudget) {
    this.#ws = ws;
    // `ws` keeps the upgraded socket here; corking it around a batch of `send`s merges their writes.
    this.#socket = (ws as unknown as { _socket: Socket })._socket;
    this.#scheduler = scheduler;
    this.#budget = budget;
    this.#socket.on("drain", () => {
      this.#count();
      const w = this.#drainWaiter;
      if (w !== undefined && !this.#closing) {
        this.#drainWaiter = undefined;
        w();
      }
    });
  }

  /** Wires the socket's events to `handler`. `maxFrameBytes` is the `maxPayload` the socket was created with. */
  attach(handler: ConnectionHandler, maxFrameBytes: number, onClosed: () => void): void {
    const ws = this.#ws;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.#alive = true;
      handler.message(data, isBinary);
    });
    ws.on("pong", () => {
      this.#alive = true;
    });
    ws.on("error", () => {
      // Protocol errors close the socket; the close event reports it.
    });
    ws.once("close", (code: number) => {
      this.#closing = true;
      this.#queue.length = 0;
      this.#queuedBytes = 0;
      this.#drainWaiter = undefined;
      this.#budget.add(-this.#counted);
      this.#counted = 0;
      onClosed();
      handler.closed(code);
    });
    // `ws` rejects a frame over `maxPayload` by closing with 1009 straight away, before its public
    // `error` event. Its receiver reports the error first, so a listener placed ahead of ws's own can
    // still write one frame while the socket is open. Without the internal receiver (a future ws), the
    // client just gets the 1009 close.
    const receiver = (ws as unknown as { _receiver?: EventEmitter })._receiver;
    receiver?.prependListener("error", (err: { code?: unknown }) => {
      if (err.code === OVERSIZED_CODE && !this.#closing) handler.oversized(maxFrameBytes);
    });
  }

  get bufferedBytes(): number {
    return this.#queuedBytes + this.#ws.bufferedAmount;
  }

  get socketBytes(): number {
    return this.#ws.bufferedAmount;
  }

  whenWritable(fn: () => void): void {
    if (this.#closing) return;
    if (this.#socket.writableNeedDrain) this.#drainWaiter = fn;
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
    if (this.#ws.readyState !== WebSocket.OPEN) {
      q.length = 0;
      return 0;
    }
    // Frames are built here, back to back in one buffer, and written to the socket under `ws`: with
    // compression off its sender writes each frame straight to the socket as well, so the order holds.
    // Large frames go through `ws` as they are, in their place, rather than being copied.
    const sock = this.#socket;
    sock.cork();
    let from = 0;
    for (let i = 0; i < n; i++) {
      const f = q[i] as string | Uint8Array;
      if (f.length < MAX_BATCHED_FRAME_BYTES) continue;
      if (i > from) sock.write(encodeTextFrames(q, from, i));
      this.#ws.send(f, TEXT_FRAME);
      from = i + 1;
    }
    if (n > from) sock.write(encodeTextFrames(q, from, n));
    sock.uncork();
    q.length = 0;
    this.#count();
    return n;
  }

  close(code: number, reason: string, dropAfterMs?: number): void {
    if (this.#closing) return;
    this.flush();
    this.#closing = true;
    this.#ws.close(code, truncateUtf8(reason, MAX_CLOSE_REASON_BYTES));
    if (dropAfterMs !== undefined) {
      const ws = this.#ws;
      setTimeout(() => {
        if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      }, dropAfterMs).unref();
    }
  }

  /** Sends a ping, or terminates the socket when the previous ping went unanswered. */
  heartbeat(): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    if (!this.#alive) {
      this.#ws.terminate();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  /** Drops the socket without a closing handshake. */
  terminate(): void {
    this.#closing = true;
    this.#ws.terminate();
  }

  /** Brings the budget's count of this socket's buffer up to date; the socket is gone once closing ends. */
  #count(): void {
    if (this.#closing && this.#ws.readyState === WebSocket.CLOSED) return;
    const b = this.#ws.bufferedAmount;
    if (b !== this.#counted) {
      this.#budget.add(b - this.#counted);
      this.#counted = b;
    }
  }
}

function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = s.slice(0, maxBytes);
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}
