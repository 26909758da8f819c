import type { Principal } from "./auth/authenticator.ts";

/**
 * The connection processor's view of one client connection. It never sees the socket: frames go out
 * through {@link TransportLink}, and the transport reports what happens through {@link ConnectionHandler}.
 */
export interface TransportLink {
  /**
   * Queues one text frame. Frames queued in the same tick are written together (corked) and in order.
   * A no-op once the link is closing.
   */
  send(frame: string | Uint8Array): void;
  /** Writes everything queued now instead of at the end of the tick. */
  flush(): void;
  /** Bytes queued or buffered by the socket but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Bytes the socket buffers (written, not yet handed to the kernel); frames queued for this tick excluded. */
  readonly socketBytes: number;
  /**
   * Calls `fn` once, on a later tick, when the socket can take more: at once when its buffer is under
   * its own high-water mark, else when it drains. Never called once the link is closed.
   */
  whenWritable(fn: () => void): void;
  /**
   * Flushes what is queued, then starts the closing handshake. Idempotent. With `dropAfterMs` the socket
   * is destroyed when the handshake has not ended by then: a client that stopped reading never answers
   * it, and its unsent bytes would stay in memory until the transport's own timeout.
   */
  close(code: number, reason: string, dropAfterMs?: number): void;
}

/** What the transport learnt at the upgrade. */
export interface ConnectionInfo {
  readonly principal: Principal;
  readonly remoteAddress: string | undefined;
  /** W3C trace context of the upgrade request, used for requests that carry no `trace` of their own. */
  readonly trace: { traceparent: string; tracestate: string | null } | null;
}

/** Events of one connection, reported by its transport in order. */
export interface ConnectionHandler {
  /** One complete inbound message. */
  message(data: Buffer, isBinary: boolean): void;
  /**
   * An inbound frame is larger than the frame limit. The handler may send (and must flush) a last frame;
   * the transport then closes with 1009.
   */
  oversized(limitBytes: number): void;
  /** The connection is gone; called once. */
  closed(code: number): void;
}

/** Receives accepted connections. */
export interface TransportAcceptor {
  opened(link: TransportLink, info: ConnectionInfo): ConnectionHandler;
}
