/**
 * Preloaded (`--import`) into a process a benchmark spawns with `--expose-gc` and an IPC channel: on
 * `{probe: "heap"}` it collects garbage until the heap stops shrinking and answers with its memory use.
 */
import { setImmediate as tick } from "node:timers/promises";

const gc = (globalThis as { gc?: () => void }).gc;

process.on("message", (m: unknown) => {
  if ((m as { probe?: string } | null)?.probe !== "heap") return;
  void (async () => {
    if (!gc) throw new Error("heap-probe needs --expose-gc");
    let last = Infinity;
    // Weak references and finalizers settle over a few collections.
    for (let i = 0; i < 6; i++) {
      gc();
      await tick();
      const used = process.memoryUsage().heapUsed;
      if (used >= last) break;
      last = used;
    }
    const m = process.memoryUsage();
    process.send!({ heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers });
  })();
});
// The IPC channel must not keep the process alive on its own.
process.channel?.unref();
