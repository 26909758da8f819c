import { deadlineExceeded, deadlineLeftMs, type CommandEnvelope, type OverloadedError } from "@threadmesh/protocol";

const MESH_PREFIX = "mesh/";

/**
 * True when the command's sender has stopped waiting for it (`CommandEnvelope.deadline`, anchored to
 * this host's clock when it was decoded): its work must not start, since the caller was already told
 * to retry. `mesh/*` notices (answers to server requests, closed connections, flushes) are never past
 * their deadline: they keep the thread consistent whenever they arrive.
 */
export function pastDeadline(env: CommandEnvelope, nowMs: number = Date.now()): boolean {
  return env.deadline !== undefined && deadlineLeftMs(env.deadline, nowMs) <= 0 && !env.method.startsWith(MESH_PREFIX);
}

/** The -32001 `deadlineExceeded` (with `retryAfterMs`) for a command past its deadline; null while it is not. */
export function deadlineRefusal(env: CommandEnvelope, retryAfterMs: number, nowMs?: number): OverloadedError | null {
  return pastDeadline(env, nowMs) ? deadlineExceeded(retryAfterMs) : null;
}
