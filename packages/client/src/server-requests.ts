import type { ApprovalDecision, ApprovalMethod, ServerRequestMap, ServerRequestMethod } from "./notifications.ts";
import type { RpcConnection } from "./rpc-connection.ts";

/** How a server request ended for this client. */
export type ServerRequestOutcome = "answered" | "resolvedElsewhere" | "abandoned";

type AnyParams = { threadId: string; turnId?: string; itemId?: string; callId?: string; [key: string]: unknown };

/**
 * A request the server sent (an approval, a question, a dynamic tool call). Answer it once with
 * `respond` (or `decide` for approvals); the first answer from any of the tenant's connections wins,
 * and `settled` tells this one whether its answer counted or another connection's did.
 */
export class ServerRequest<M extends ServerRequestMethod = ServerRequestMethod> {
  readonly method: M;
  readonly params: ServerRequestMap[M]["params"];
  readonly threadId: string;
  readonly settled: Promise<ServerRequestOutcome>;
  /** The answer this client gave, if any (re-sent when the request is re-issued after a reconnect). */
  answer: ServerRequestMap[M]["result"] | undefined = undefined;
  #settle!: (o: ServerRequestOutcome) => void;
  #done = false;
  /** The JSON-RPC id on the connection that holds the request now. */
  id: string | number;
  conn: RpcConnection;

  constructor(method: M, params: ServerRequestMap[M]["params"], id: string | number, conn: RpcConnection) {
    this.method = method;
    this.params = params;
    this.threadId = (params as AnyParams).threadId;
    this.id = id;
    this.conn = conn;
    this.settled = new Promise((r) => (this.#settle = r));
  }

  get isApproval(): boolean {
    return this.method === "item/commandExecution/requestApproval" || this.method === "item/fileChange/requestApproval";
  }

  get done(): boolean {
    return this.#done;
  }

  respond(result: ServerRequestMap[M]["result"]): void {
    if (this.#done || this.answer !== undefined) return;
    this.answer = result;
    this.conn.respond(this.id, result);
    // Dynamic tool calls are not followed by serverRequest/resolved.
    if (this.method === "item/tool/call") this.finish("answered");
  }

  /** Answers an approval with a decision. */
  decide(this: ServerRequest<ApprovalMethod>, decision: ApprovalDecision): void {
    (this as ServerRequest<"item/commandExecution/requestApproval">).respond({ decision: decision as ServerRequestMap["item/commandExecution/requestApproval"]["result"]["decision"] });
  }

  finish(outcome: ServerRequestOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle(outcome);
  }
}

/** The key that identifies one logical server request across connections (its id changes on each). */
export function serverRequestKey(method: string, params: unknown): string {
  const p = (params ?? {}) as AnyParams;
  const item = p.itemId ?? p.callId ?? JSON.stringify(params);
  return `${p.threadId}\u0000${method}\u0000${item}`;
}
