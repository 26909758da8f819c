import * as grpc from "@grpc/grpc-js";
import { z } from "zod";
import { describeZodError, toServiceError } from "./admin-errors.ts";

/** What every admin handler shares: the caller check and where unexpected failures are reported. */
export interface HandlerContext {
  /** True when the call carries the admin credential. */
  authorized(call: grpc.ServerUnaryCall<unknown, unknown>): boolean;
  onInternalError(err: unknown, method: string): void;
}

/**
 * A unary handler: refuses callers without the admin credential (UNAUTHENTICATED), validates the
 * request with `schema` (INVALID_ARGUMENT naming each bad field), runs `run` and maps its failures to
 * their status (see `toServiceError`). Never throws.
 */
export function unary<S extends z.ZodType>(ctx: HandlerContext, method: string, schema: S, run: (req: z.output<S>) => Promise<object>): grpc.handleUnaryCall<unknown, object> {
  return (call, callback) => {
    if (!ctx.authorized(call)) {
      callback({ code: grpc.status.UNAUTHENTICATED, details: "missing or wrong admin credential: send `authorization: Bearer <admin token>`" });
      return;
    }
    const parsed = schema.safeParse(call.request);
    if (!parsed.success) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: describeZodError(parsed.error) });
      return;
    }
    run(parsed.data).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const { error, internal } = toServiceError(err);
        if (internal) ctx.onInternalError(err, method);
        callback(error);
      },
    );
  };
}

/** An int64 field as protobuf decodes it (a decimal string) or as a client may send it (a number). */
export const Int64 = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === "number" ? v : v.trim() === "" ? Number.NaN : Number(v);
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: "custom", message: `must be an integer of at most 2^53 (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return n;
});

/** A page size: 0 (unset) means `fallback`, at most `max`. */
export function pageSize(fallback: number, max: number) {
  return z
    .number()
    .int()
    .min(0, "page size must not be negative")
    .max(max, `page size must be at most ${max}`)
    .transform((n) => (n === 0 ? fallback : n));
}
