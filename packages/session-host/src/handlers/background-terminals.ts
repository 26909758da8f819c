import type { CommandOutcome } from "../command-outcome.ts";

/**
 * `thread/backgroundTerminals/*` (experimental; Codex clients call them on resume, `/ps` and `/stop`).
 * Threadmesh's shell tool runs each command to completion inside the turn, so a thread never has a
 * background terminal: the list is empty, cleaning has nothing to stop, no process id is known.
 */
export function backgroundTerminalsList(): CommandOutcome {
  return { result: { data: [], nextCursor: null } };
}

export function backgroundTerminalsClean(): CommandOutcome {
  return { result: {} };
}

export function backgroundTerminalsTerminate(): CommandOutcome {
  return { result: { terminated: false } };
}
