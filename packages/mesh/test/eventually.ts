import { setTimeout as delay } from "node:timers/promises";

/**
 * Resolves once `check` returns a value other than undefined/false, polling every few ms; rejects after
 * `timeoutMs`. For state that other connections change through a watch, which offers no event to await.
 */
export async function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await delay(5);
  }
}
