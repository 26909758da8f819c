import { AbortError, ConnectionLostError, errorFromAnswer } from "./errors.ts";
import type { WireSocket } from "./socket.ts";

/** A frame the server sent that is not an answer: a notification or a server request. */
export interface InboundFrame {
  method: string;
  params: unknown;
  /** Present on server requests. */
  id?: string | number;
  seq?: number;
  firstSeq?: number;
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

/** JSON-RPC over one socket: ids, answers, and everything else handed to `onFrame`. Lives as long as its socket. */
export class RpcConnection {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed: { code: number; reason: string } | null = null;
  readonly #socket: WireSocket;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(socket: WireSocket, onFrame: (frame: InboundFrame) => void) {
    this.#socket = socket;
    let closed!: (c: { code: number; reason: string }) => void;
    this.closed = new Promise((r) => (closed = r));
    socket.onMessage((text) => {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof f !== "object" || f === null) return;
      if (typeof f.method === "string") {
        onFrame(f as unknown as InboundFrame);
        return;
      }
      if (typeof f.id !== "number") return;
      const p = this.#pending.get(f.id);
      if (!p) return;
      this.#pending.delete(f.id);
      p.cleanup();
      const error = f.error as { code: number; message: string; data?: unknown } | undefined;
      if (error && typeof error === "object") p.reject(errorFromAnswer(p.method, error));
      else p.resolve(f.result);
    });
    socket.onClose((code, reason) => {
      this.#closed = { code, reason };
      for (const p of this.#pending.values()) {
        p.cleanup();
        p.reject(new ConnectionLostError(p.method, `closed ${code}${reason ? ` ${reason}` : ""}`));
      }
      this.#pending.clear();
      closed({ code, reason });
    });
  }

  get isOpen(): boolean {
    return this.#closed === null;
  }

  request(method: string, params: unknown, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    if (this.#closed) return Promise.reject(new ConnectionLostError(method, `closed ${this.#closed.code}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // The answer, if one comes, is dropped: the id is forgotten.
        this.#pending.delete(id);
        reject(new AbortError(signal?.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, { method, resolve, reject, cleanup: () => signal?.removeEventListener("abort", onAbort) });
      this.#socket.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
    });
  }

  notify(method: string): void {
    if (this.#closed === null) this.#socket.send(JSON.stringify({ method }));
  }

  respond(id: string | number, result: unknown): void {
    if (this.#closed === null) this.#socket.send(JSON.stringify({ id, result }));
  }

  respondError(id: string | number, code: number, message: string): void {
    if (this.#closed === null) this.#socket.send(JSON.stringify({ id, error: { code, message } }));
  }

  close(code = 1000, reason = ""): void {
    if (this.#closed === null) this.#socket.close(code, reason);
  }
}
