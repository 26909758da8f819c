import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes a benchmark's result to bench/results/<name>.json and prints `shown` (default: the result). */
export function writeResult(name: string, result: unknown, shown: unknown = result): void {
  const dir = join(import.meta.dirname, "..", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(shown, null, 2));
}
