import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Where results go: `$BENCH_RESULTS_DIR` (for smoke runs) or bench/results. */
export function resultsDir(): string {
  return process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(import.meta.dirname, "..", "results");
}

/** Writes a benchmark's result to <results dir>/<name>.json and prints `shown` (default: the result). */
export function writeResult(name: string, result: unknown, shown: unknown = result): void {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(shown, null, 2));
}
