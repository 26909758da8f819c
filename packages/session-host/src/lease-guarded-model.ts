import { ModelAbortedError, type ModelClient } from "./model/model-client.ts";

/**
 * A model client that sends nothing once this host's lease lapsed: a host resuming from a pause may
 * still be inside a turn another host has taken over, and must not reach the model for it.
 */
export function leaseGuardedModel(inner: ModelClient, leaseValid: () => boolean): ModelClient {
  return {
    stream(request, sink, signal) {
      if (!leaseValid()) return Promise.reject(new ModelAbortedError("leaseLapsed"));
      return inner.stream(request, sink, signal);
    },
  };
}
