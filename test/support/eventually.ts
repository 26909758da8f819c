import { setTimeout as delay } from "node:timers/promises";

/**
 * Resolves with the first value of `check` other than undefined/false, polling every few ms; rejects
 * after `timeoutMs`. For state that changes elsewhere with no event to await (a watched KV bucket).
 */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await delay(10);
  }
}
