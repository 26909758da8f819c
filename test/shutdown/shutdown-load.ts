import { readdirSync, readFileSync } from "node:fs";
import type { ThreadmeshProcess } from "../support/processes.ts";

/** The drain deadline the processes under test run with, ms. */
export const DRAIN_DEADLINE_MS = 2_000;
/** What the issue allows past it: each process ends within the deadline plus this, ms. */
export const STOP_MARGIN_MS = 2_000;

/** A streamed answer long enough to be still running at the drain deadline (about 8 s). */
export function slowAnswer(words = 80, chunkDelayMs = 100) {
  return { output: [{ type: "message" as const, text: Array.from({ length: words }, (_, i) => `word${i} `) }], chunkDelayMs };
}

/**
 * Sends SIGTERM and resolves with the exit and the time from the signal to the exit event, ms. A process
 * still running well past the allowed time is killed (SIGKILL), so that a test fails instead of hanging.
 */
export async function terminate(proc: ThreadmeshProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const at = performance.now();
  proc.child.kill("SIGTERM");
  const killer = setTimeout(() => proc.child.kill("SIGKILL"), DRAIN_DEADLINE_MS + STOP_MARGIN_MS + 10_000);
  const exit = await proc.exited;
  clearTimeout(killer);
  return { ...exit, ms: performance.now() - at };
}

/** Process ids whose command line contains `marker` (zombies have none, so only processes still running count). */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").includes(marker)) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids.filter((p) => p !== process.pid);
}
