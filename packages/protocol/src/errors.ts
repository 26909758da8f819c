/**
 * JSON-RPC error codes used on the wire. Codex 0.169.0 reports nearly everything as -32600; Threadmesh
 * uses the standard codes where JSON-RPC defines them and -32600 where Codex clients match messages.
 */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  Overloaded: -32001,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The `{code, message, data}` triple as it travels on the wire and across the bus. */
export interface RpcErrorShape {
  code: number;
  message: string;
  data?: unknown;
}

/** Base error: carries its JSON-RPC code. Subclasses only pick the code. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }
  /** True when a client may retry the same request later. */
  get retryable(): boolean {
    return this.code === ErrorCode.Overloaded;
  }
  toShape(): RpcErrorShape {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
  /** Rebuilds an error that crossed the bus from its code, never by `instanceof`. */
  static fromShape(shape: RpcErrorShape): RpcError {
    return new RpcError(shape.code, shape.message, shape.data);
  }
}

export class InvalidRequestError extends RpcError {
  constructor(message: string, data?: unknown) {
    super(ErrorCode.InvalidRequest, message, data);
  }
}
export class InvalidParamsError extends RpcError {
  constructor(message: string, data?: unknown) {
    super(ErrorCode.InvalidParams, message, data);
  }
}
export class MethodNotFoundError extends RpcError {
  constructor(method: string) {
    super(ErrorCode.MethodNotFound, `method not found: ${method}`);
  }
}
export class InternalError extends RpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Internal, message, undefined, options);
  }
}
export class OverloadedError extends RpcError {
  constructor(retryAfterMs: number, reason: string, message = "Server overloaded; retry later.") {
    super(ErrorCode.Overloaded, message, { retryAfterMs, reason });
  }
}
export class ThreadNotFoundError extends InvalidRequestError {
  constructor(threadId: string) {
    super(`thread not found: ${threadId}`);
  }
}

/** Converts anything thrown into a wire error without leaking stacks. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (isRpcErrorShape(err)) return RpcError.fromShape(err);
  return new InternalError("internal error");
}

export function isRpcErrorShape(v: unknown): v is RpcErrorShape {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as RpcErrorShape).code === "number" &&
    typeof (v as RpcErrorShape).message === "string"
  );
}
