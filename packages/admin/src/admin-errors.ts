import { status, type ServiceError } from "@grpc/grpc-js";
import { BusError } from "@threadmesh/mesh";
import { InvalidPageTokenError, TenancyInputError, TenantExistsError, UnknownApiKeyError, UnknownTenantError } from "@threadmesh/persistence";
import { ZodError } from "zod";

/** An error the admin API answers with its own status and message. */
export class AdminError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.name = "AdminError";
    this.code = code;
  }
}

export const notFound = (message: string): AdminError => new AdminError(status.NOT_FOUND, message);
export const invalidArgument = (message: string): AdminError => new AdminError(status.INVALID_ARGUMENT, message);

/** One line naming every bad field of a zod failure. */
export function describeZodError(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/**
 * The gRPC status of an error a handler threw. Known failures keep their message; anything else is
 * INTERNAL with a generic message (`internal` is true: the caller logs it).
 */
export function toServiceError(err: unknown): { error: Partial<ServiceError>; internal: boolean } {
  const e = (code: status, details: string) => ({ error: { code, details, message: details }, internal: false });
  if (err instanceof AdminError) return e(err.code, err.message);
  if (err instanceof ZodError) return e(status.INVALID_ARGUMENT, describeZodError(err));
  if (err instanceof TenancyInputError || err instanceof InvalidPageTokenError) return e(status.INVALID_ARGUMENT, err.message);
  if (err instanceof TenantExistsError) return e(status.ALREADY_EXISTS, err.message);
  if (err instanceof UnknownTenantError || err instanceof UnknownApiKeyError) return e(status.NOT_FOUND, err.message);
  if (err instanceof BusError) return e(status.UNAVAILABLE, err.kind === "noResponders" ? "the host does not answer on the bus" : `bus: ${err.message}`);
  return { error: { code: status.INTERNAL, details: "internal error (see the admin server's log)", message: "internal error" }, internal: true };
}
