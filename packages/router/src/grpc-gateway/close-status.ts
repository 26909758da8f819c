import { Metadata, status } from "@grpc/grpc-js";
import { CLOSE_CODE_TRAILER, CLOSE_REASON_TRAILER } from "./close-trailers.ts";

export { CLOSE_CODE_TRAILER, CLOSE_REASON_TRAILER };

/** A call's final status and trailers. */
export interface CallStatus {
  code: status;
  details: string;
  metadata: Metadata;
}

/**
 * The gRPC status of a connection closed with a WebSocket close code: normal closure is OK; going away
 * (drain, shutdown) and try-again-later (a consumer too far behind) are UNAVAILABLE, which clients
 * retry; a withdrawn credential is UNAUTHENTICATED; a frame over the limit RESOURCE_EXHAUSTED.
 */
export function closeStatus(closeCode: number, reason: string): CallStatus {
  const metadata = new Metadata();
  metadata.set(CLOSE_CODE_TRAILER, String(closeCode));
  if (reason !== "") metadata.set(CLOSE_REASON_TRAILER, encodeURIComponent(reason));
  return { code: statusOf(closeCode), details: reason === "" ? `closed (${closeCode})` : reason, metadata };
}

function statusOf(closeCode: number): status {
  switch (closeCode) {
    case 1000:
      return status.OK;
    case 1001:
    case 1012:
    case 1013:
      return status.UNAVAILABLE;
    case 1008:
      return status.UNAUTHENTICATED;
    case 1009:
      return status.RESOURCE_EXHAUSTED;
    default:
      return status.INTERNAL;
  }
}
