import { WebSocket } from "ws";

/** A server frame as received: its text, and the id text of a response or error (null for id null). */
export interface RawFrame {
  readonly text: string;
  /** Id text exactly as the server wrote it, `null` for `"id":null`, undefined for notifications. */
  readonly idText: string | null | undefined;
  readonly code: number | undefined;
  readonly data: unknown;
}

const ANSWER = /^\{"id":(null|-?\d+|"(?:[^"\\]|\\.)*"),"(result|error)"/;

/**
 * A WebSocket client that sends raw frames (text or binary) and keeps every server frame with the
 * id text as written, so that big-integer and escaped string ids are compared exactly.
 */
export class RawClient {
  readonly frames: RawFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly #waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = data.toString();
      const m = isBinary ? null : ANSWER.exec(text);
      let code: number | undefined;
      let errorData: unknown;
      if (m && m[2] === "error") {
        const e = (JSON.parse(text) as { error: { code: number; data?: unknown } }).error;
        code = e.code;
        errorData = e.data;
      }
      this.frames.push({ text, idText: m ? (m[1] === "null" ? null : m[1]) : undefined, code, data: errorData });
      this.#wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    ws.on("error", () => {});
  }

  static async connect(url: string, token: string): Promise<RawClient> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new RawClient(ws);
  }

  send(frame: string | Buffer, binary = false): void {
    this.ws.send(frame, { binary });
  }

  /** Answers carrying this id text. */
  answers(idText: string): RawFrame[] {
    return this.frames.filter((f) => f.idText === idText);
  }

  /** Resolves once `done()` holds, re-checked on every frame; rejects after `timeoutMs` with `describe()`. */
  until(done: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(describe()));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  close(): void {
    this.ws.close();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
