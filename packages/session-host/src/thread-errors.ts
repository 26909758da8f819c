import { InvalidRequestError } from "@threadmesh/protocol";

/** Codex's errors for thread lookups, with their exact messages (§3). */

/** Resume/archive/delete of a thread that is unknown, never materialized, ephemeral or archived. */
export function noRolloutError(threadId: string): InvalidRequestError {
  return new InvalidRequestError(`no rollout found for thread id ${threadId}`);
}

/** Unarchive of a thread that is not archived. */
export function noArchivedRolloutError(threadId: string): InvalidRequestError {
  return new InvalidRequestError(`no archived rollout found for thread id ${threadId}`);
}

/** `thread/read` (and the other store reads) of a thread that is neither loaded nor stored. */
export function threadNotLoadedError(threadId: string): InvalidRequestError {
  return new InvalidRequestError(`thread not loaded: ${threadId}`);
}

/** `thread/goal/set` with an empty objective (Codex's message). */
export function emptyGoalObjectiveError(): InvalidRequestError {
  return new InvalidRequestError("goal objective must not be empty");
}

/** `thread/goal/set` without an objective while the thread has no goal (Codex's message). */
export function noGoalError(threadId: string): InvalidRequestError {
  return new InvalidRequestError(`cannot update goal for thread ${threadId}: no goal exists`);
}

export function emptyThreadNameError(): InvalidRequestError {
  return new InvalidRequestError("thread name must not be empty");
}

/** `deprecationNotice` summary sent before a resume that hydrates turns. */
export const RESUME_DEPRECATION =
  "Full-history hydration is deprecated for paginated threads; use `excludeTurns: true`, then page with `thread/turns/list` and `thread/items/list`.";
/** `deprecationNotice` summary sent before a `thread/read` with `includeTurns`. */
export const READ_DEPRECATION =
  "Full-history hydration is deprecated for paginated threads; omit `includeTurns` or set it to `false`, then page with `thread/turns/list` and `thread/items/list`.";
