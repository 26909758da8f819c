/** A small JSON-RPC 2.0 client over the browser's WebSocket, signed in with a console ticket. */
export interface ServerRequest {
  id: number | string;
  method: string;
  params: Record<string, unknown>;
}

export interface RpcHandlers {
  notification(method: string, params: Record<string, unknown>): void;
  request(req: ServerRequest): void;
  closed(reason: string): void;
}

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Exchanges the API key for a single-use ticket (the key travels only in an Authorization header). */
async function ticketFor(apiKey: string): Promise<{ ticket: string; tenant: string }> {
  const res = await fetch("/console/ticket", { method: "POST", headers: { authorization: `Bearer ${apiKey}` } });
  const body = (await res.json().catch(() => ({}))) as { ticket?: string; tenant?: string; message?: string };
  if (!res.ok || body.ticket === undefined) throw new Error(body.message ?? `sign-in failed (${res.status})`);
  return { ticket: body.ticket, tenant: body.tenant ?? "" };
}

export class Rpc {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(
    private readonly ws: WebSocket,
    readonly tenant: string,
    handlers: RpcHandlers,
  ) {
    ws.addEventListener("message", (ev) => this.#onMessage(String(ev.data), handlers));
    ws.addEventListener("close", (ev) => {
      for (const p of this.#pending.values()) p.reject(new Error("connection closed"));
      this.#pending.clear();
      handlers.closed(ev.reason || `connection closed (${ev.code})`);
    });
  }

  static async connect(apiKey: string, handlers: RpcHandlers): Promise<Rpc> {
    const { ticket, tenant } = await ticketFor(apiKey);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/console/ws`, ["threadmesh.console", `threadmesh.ticket.${ticket}`]);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("close", () => reject(new Error("the server refused the connection")), { once: true });
    });
    const rpc = new Rpc(ws, tenant, handlers);
    await rpc.request("initialize", { clientInfo: { name: "threadmesh-console", title: "Threadmesh console", version: "0.1.0" }, capabilities: { experimentalApi: true } });
    rpc.#send({ jsonrpc: "2.0", method: "initialized" });
    return rpc;
  }

  request<T = Record<string, unknown>>(method: string, params: unknown = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.#send({ jsonrpc: "2.0", id, method, params });
    });
  }

  respond(id: number | string, result: unknown): void {
    this.#send({ jsonrpc: "2.0", id, result });
  }

  close(): void {
    this.ws.close(1000, "signed out");
  }

  #send(msg: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  #onMessage(data: string, handlers: RpcHandlers): void {
    let msg: { id?: number | string; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { code: number; message: string } };
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg.method !== undefined && msg.id !== undefined) handlers.request({ id: msg.id, method: msg.method, params: msg.params ?? {} });
    else if (msg.method !== undefined) handlers.notification(msg.method, msg.params ?? {});
    else if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new RpcError(msg.error.code, msg.error.message));
      else p.resolve(msg.result);
    }
  }
}
